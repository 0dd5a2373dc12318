// Fast CPU backend (fast/cpu): what is specific to it. Its accuracy against the reference and exact
// answers, per stage and precision, is the conformance suite's (tests/test_conformance.cpp, cpu_*).
// Here: the exact-windowing proof (windowed == dense, bitwise), its PSF components against the
// reference's, thread-count independence, the thread pool, the registry/order-3 contract and the CLI.
// Bounds come from validate/tolerances only. *Slow* tests (suite 'slow'): the 4096² derived input,
// with timings printed (never asserted).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench/bench_stages.hpp"
#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "fast/cpu/cpu_backend.hpp"
#include "fast/cpu/deconvolve_cpu.hpp"
#include "fast/common/parallel.hpp"
#include "fast/cpu/psf_cpu.hpp"
#include "reference/deconvolve_reference.hpp"
#include "reference/psf_reference.hpp"
#include "tests/fast_backend_cases.hpp"
#include "tests/test_support.hpp"
#include "registry/backend_registry.hpp"
#include "validate/compare.hpp"
#include "validate/tolerances.hpp"

using namespace aiaccel;
using validate::Against;

namespace {
using test::all_orders;
using test::bitwise_equal;
using test::reference_psf_171;
using test::seconds;
using test::small_case;
using test::SmallCase;

double bound(const char* stage, const char* metric, const char* precision) {
    return validate::tolerance(stage, metric, Against::reference, "cpu", precision).bound;
}

}  // namespace

// Exact truncation: the windowed component equals the dense full-grid evaluation bit for bit, for
// both aiapy versions, both components, the default and a preflight width, and 1 or 2 threads.
TEST(CpuPsf, WindowedComponentEqualsDenseBitwise) {
    for (AiapyVersion v : {AiapyVersion::v0_10_2, AiapyVersion::v0_12_1})
        for (bool preflight : {false, true})
            for (cpu::Component c : {cpu::Component::entrance, cpu::Component::focal_plane}) {
                const cpu::MeshParams mp = cpu::mesh_params(171, preflight);
                const std::size_t n = 160;  // far spikes fall off the grid: the clipping is exercised too
                Image<double> dense = cpu::psf_component_cpu(mp, c, all_orders(), v, n, false, 1);
                Image<double> win1 = cpu::psf_component_cpu(mp, c, all_orders(), v, n, true, 1);
                Image<double> win2 = cpu::psf_component_cpu(mp, c, all_orders(), v, n, true, 2);
                EXPECT_TRUE(bitwise_equal(win1, dense)) << "version " << int(v) << " preflight " << preflight << " comp " << int(c);
                EXPECT_TRUE(bitwise_equal(win2, dense)) << "threads 2, version " << int(v);
            }
    // The window half-width is where exp() is exactly zero.
    for (double w : {4.5, 0.951, 1.512}) {
        const double h = cpu::underflow_half_width(w);
        EXPECT_EQ(std::exp((-w) * (h * h)), 0.0);
        EXPECT_GT(std::exp((-w) * ((h - 1.5) * (h - 1.5))), 0.0) << "window no larger than needed (w = " << w << ")";
    }
}

// Both aiapy versions' formulas, default and preflight core widths, two channels.
TEST(CpuPsf, ComponentsMatchReference) {
    struct Case {
        int channel;
        bool preflight;
        AiapyVersion v;
    };
    for (Case c : {Case{171, false, AiapyVersion::v0_10_2}, Case{171, false, AiapyVersion::v0_12_1}, Case{193, true, AiapyVersion::v0_10_2},
                   Case{335, true, AiapyVersion::v0_12_1}})
        for (auto [ours, theirs] : {std::pair{cpu::Component::entrance, reference::PsfComponent::entrance},
                                    std::pair{cpu::Component::focal_plane, reference::PsfComponent::focal_plane}}) {
            Image<double> a = cpu::psf_component_cpu(cpu::mesh_params(c.channel, c.preflight), ours, all_orders(), c.v, 4096, true, 2);
            reference::PsfOptions ro;
            ro.use_preflight_core = c.preflight;
            ro.version = c.v;
            Image<double> r = reference::psf_component(c.channel, theirs, ro);
            auto m = validate::compare(a, r);
            std::printf("[accuracy] psf component %d, %d Å, preflight %d, aiapy %s: cpu f64 vs reference: %s\n", int(ours), c.channel,
                        int(c.preflight), std::string(to_string(c.v)).c_str(), m.summary().c_str());
            EXPECT_LE(m.max_abs_over_max, bound("psf_component", "max_abs_over_max", "f64")) << m.summary();
        }
}

// Threads split the windowed components and FFTW's transforms: 1 and 2 threads agree within the
// float64 PSF bound (accuracy against the reference: tests/test_conformance.cpp, cpu_psf_*).
TEST(CpuPsf, ThreadCountDoesNotChangeTheResult) {
    Image<double> p2, p1;
    std::printf("[timing] psf 171 cpu f64, 2 threads: %.2f s (first call: includes FFTW planning)\n",
                seconds([&] { p2 = cpu::psf_cpu(171, false, AiapyVersion::v0_10_2, 2); }));
    std::printf("[timing] psf 171 cpu f64, 1 thread: %.2f s (first call at 1 thread: includes planning)\n",
                seconds([&] { p1 = cpu::psf_cpu(171, false, AiapyVersion::v0_10_2, 1); }));
    auto mt = validate::compare(p1, p2);
    std::printf("[threads] psf cpu 1 vs 2 threads: %s (%s)\n", mt.summary().c_str(), bitwise_equal(p1, p2) ? "bitwise equal" : "differ");
    EXPECT_LE(mt.max_abs_over_max, bound("psf", "max_abs_over_max", "f64"));
}

// The PSF is computed in float64 whatever the precision asked, so `aiaccel bench` and the
// bench programs make no f32 PSF rows (they would time the float64 run under an f32 label).
TEST(CpuPsf, BenchMakesNoFloat32PsfRows) {
    EXPECT_TRUE(bench::stage_has_precision("psf", Precision::f64));
    EXPECT_FALSE(bench::stage_has_precision("psf", Precision::f32));
    for (const char* stage : {"deconvolve", "register"})
        for (Precision p : {Precision::f64, Precision::f32}) EXPECT_TRUE(bench::stage_has_precision(stage, p)) << stage;
}

TEST(CpuDeconvolve, ThreadCountDoesNotChangeTheResult) {
    const SmallCase& c = small_case();
    for (bool f32 : {false, true}) {
        auto run = [&](int t) {
            return f32 ? cpu::deconvolve_cpu<float>(c.img, c.psf, {.iterations = 25}, t)
                       : cpu::deconvolve_cpu<double>(c.img, c.psf, {.iterations = 25}, t);
        };
        Image<double> a = run(1), b = run(2);
        auto m = validate::compare(b, a);
        std::printf("[threads] deconvolve %s 1 vs 2 threads: %s (%s)\n", f32 ? "f32" : "f64", m.summary().c_str(),
                    bitwise_equal(a, b) ? "bitwise equal" : "differ");
        EXPECT_LE(m.max_abs_over_max, bound("deconvolve", "max_abs_over_max", f32 ? "f32" : "f64"));
    }
}

// The persistent pool behind parallel_for: every block runs exactly once with the static partition,
// nested calls and several callers at once finish (the caller runs unclaimed blocks itself), and a
// block's exception reaches the caller after the other blocks finished.
TEST(CpuParallel, PersistentPoolBlocksNestingConcurrencyAndExceptions) {
    for (int threads : {1, 2, 3, 7}) {
        std::vector<int> hits(1000, 0);
        std::vector<std::size_t> starts(static_cast<std::size_t>(threads), 0);
        cpu::parallel_for(hits.size(), threads, [&](std::size_t b, std::size_t e, std::size_t blk) {
            starts[blk] = b;
            for (std::size_t p = b; p < e; ++p) ++hits[p];
        });
        for (int h : hits) ASSERT_EQ(h, 1) << threads << " threads";
        for (int blk = 0; blk < threads; ++blk) EXPECT_EQ(starts[std::size_t(blk)], hits.size() * std::size_t(blk) / std::size_t(threads));
    }
    std::atomic<long> sum{0};
    auto nested = [&] {
        cpu::parallel_for(8, 4, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t i = b; i < e; ++i) cpu::parallel_for(100, 3, [&](std::size_t b2, std::size_t e2, std::size_t) { sum += long(e2 - b2); });
        });
    };
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c) callers.emplace_back(nested);
    for (auto& t : callers) t.join();
    EXPECT_EQ(sum.load(), 4L * 8 * 100);
    std::atomic<int> ran{0};
    EXPECT_THROW(cpu::parallel_for(4, 4,
                                   [&](std::size_t b, std::size_t, std::size_t) {
                                       ++ran;
                                       if (b == 2) throw std::runtime_error("block 2");
                                   }),
                 std::runtime_error);
    EXPECT_EQ(ran.load(), 4);
}

TEST(CpuBackend, RegistryMakesItAndRegisterOrderOtherThan3IsUnsupported) {
    const auto& e = registry::find_backend("cpu");
    EXPECT_TRUE(e.probe().available) << e.probe().reason;
    auto b = registry::make_available_backend("cpu");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->name(), "cpu");
    EXPECT_TRUE(b->supports(Precision::f32));
    EXPECT_TRUE(b->supports(Precision::f64));
    try {
        b->register_image(AiaImage{}, {.missing = {}, .order = 5, .full_frame = false}, {});
        ADD_FAILURE() << "register did not throw";
    } catch (const Error& err) {
        EXPECT_EQ(err.kind(), ErrorKind::not_implemented);
        EXPECT_NE(std::string(err.what()).find("cpu: register implements spline order 3"), std::string::npos) << err.what();
    }
}

// 4096²: the derived input (testdata/golden/DERIVED.md) with the 171 Å PSF, 25 iterations, 2 threads.
TEST(CpuSlow, FullFrameDeconvolveAccuracyAndTimings) {
    const Image<double>& psf = reference_psf_171();
    AiaImage in = derive_full_res_2x(load_aia(test::real_file(kDerived1600Source).string()));
    Image<double> ref, d64, d32;
    std::printf("[timing] deconvolve 4096² 25 it reference f64 (1 thread): %.2f s\n",
                seconds([&] { ref = reference::deconvolve(in.data, psf, {.iterations = 25}); }));
    for (int pass = 0; pass < 2; ++pass) {
        const char* what = pass ? "plans cached" : "first call: includes FFTW planning";
        std::printf("[timing] deconvolve 4096² 25 it cpu f64, 2 threads: %.2f s (%s)\n",
                    seconds([&] { d64 = cpu::deconvolve_cpu<double>(in.data, psf, {.iterations = 25}, 2); }), what);
        std::printf("[timing] deconvolve 4096² 25 it cpu f32, 2 threads: %.2f s (%s)\n",
                    seconds([&] { d32 = cpu::deconvolve_cpu<float>(in.data, psf, {.iterations = 25}, 2); }), what);
    }
    auto m64 = validate::compare(d64, ref), m32 = validate::compare(d32, ref);
    std::printf("[accuracy] deconvolve 4096² 25 it cpu f64 vs reference: %s\n", m64.summary().c_str());
    std::printf("[accuracy] deconvolve 4096² 25 it cpu f32 vs reference: %s\n", m32.summary().c_str());
    EXPECT_LE(m64.max_abs_over_max, bound("deconvolve", "max_abs_over_max", "f64"));
    EXPECT_LE(m32.max_abs_over_max, bound("deconvolve", "max_abs_over_max", "f32"));
    EXPECT_LE(m32.rel_l2, bound("deconvolve", "rel_l2", "f32"));
}

// The command line runs the cpu backend (128² real 171 Å file, 5 iterations) through the seam: --backend cpu --precision f32 --threads 2.
TEST(CpuCli, DeconvolveAndPsfOptions) {
    test::ScratchDir dir;
    const std::string in = test::real_file("aia_171_level1.fits").string();
    AiaImage src = load_aia(in);
    Image<double> gauss(src.data.rows(), src.data.cols(), 0.0);  // a small normalised Gaussian of the image's shape
    double s = 0;
    for (std::size_t i = 0; i < gauss.rows(); ++i)
        for (std::size_t j = 0; j < gauss.cols(); ++j) {
            const double di = double(i) - double(gauss.rows() / 2), dj = double(j) - double(gauss.cols() / 2);
            s += gauss(i, j) = std::exp(-(di * di + dj * dj) / 2.0);
        }
    for (double& v : gauss.pixels()) v /= s;
    write_fits(dir / "g.fits", gauss, {});
    auto ref = test::run_aiaccel({"deconvolve", in, "--psf", (dir / "g.fits").string(), "-n", "5", "-o", (dir / "r.fits").string()});
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    auto cpu32 = test::run_aiaccel({"deconvolve", in, "--psf", (dir / "g.fits").string(), "-n", "5", "-o", (dir / "c.fits").string(), "--backend",
                                    "cpu", "--precision", "f32", "--threads", "2"});
    ASSERT_EQ(cpu32.exit_code, 0) << cpu32.err;
    AiaImage r = load_aia((dir / "r.fits").string()), c = load_aia((dir / "c.fits").string());
    auto m = validate::compare(c.data, r.data);
    EXPECT_LE(m.max_abs_over_max, bound("deconvolve", "max_abs_over_max", "f32")) << m.summary();
    bool history = false;
    for (const auto& card : c.header.cards()) history |= card.raw.find("backend cpu f32") != std::string::npos;
    EXPECT_TRUE(history) << "HISTORY names the backend and precision";
    // The reference computes in float64 only; a bad precision is a usage error; nothing is written.
    EXPECT_EQ(test::run_aiaccel({"psf", "-c", "171", "-o", (dir / "p.fits").string(), "--precision", "f32"}).exit_code, 2);
    EXPECT_EQ(test::run_aiaccel({"psf", "-c", "171", "-o", (dir / "p.fits").string(), "--backend", "cpu", "--precision", "f16"}).exit_code, 2);
    EXPECT_FALSE(std::filesystem::exists(dir / "p.fits"));
}
