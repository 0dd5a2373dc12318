// CUDA backend (fast/cuda) on a device: what is specific to it. Its accuracy against the reference and
// exact answers through the registry, per stage and precision, is the conformance suite's
// (tests/test_conformance.cpp, cuda_*). Here, through validate/compare and the tolerance table (the
// cuda rows): PSF components against the reference and fast/cpu, the PSF's timings and aiapy 0.12.1,
// the resident PSF transform and the two-stream batch, the affine kernels against
// reference::affine_transform (plain, transposed as sunpy calls it, with NaNs and clip), the memory
// check, and the 4096² runs with timings. Part of test_cuda: without a device the whole program reports
// SKIPPED (tests/cuda_test_main.cpp). Poison-and-repeat tests (CudaPoison) fill the free device
// memory with 0xFF between two runs and require bit-for-bit equal results. Timings are printed, never
// asserted (a missing device timing is a failure).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "fast/common/parallel.hpp"
#include "fast/cpu/psf_cpu.hpp"
#include "fast/cuda/cuda_host.hpp"
#include "fast/cuda/deconvolve_cuda.hpp"
#include "fast/cuda/psf_cuda.hpp"
#include "fast/cuda/register_cuda.hpp"
#include "reference/deconvolve_reference.hpp"
#include "reference/psf_reference.hpp"
#include "reference/spline_reference.hpp"
#include "tests/fast_backend_cases.hpp"
#include "tests/test_support.hpp"
#include "validate/compare.hpp"
#include "validate/tolerances.hpp"

using namespace aiaccel;
using validate::Against;

namespace {
using test::all_orders;
using test::bitwise_equal;
using test::crop;
using test::reference_psf_171;
using test::seconds;
using test::small_case;
using test::SmallCase;

double bound(const char* stage, const char* metric, const char* precision, Against against = Against::reference) {
    return validate::tolerance(stage, metric, against, "cuda", precision).bound;
}

void print_device_timing(const char* what) {
    const std::string stage = what;
    const cuda::StageTiming t = cuda::last_timing(stage.substr(0, stage.find(' ')));
    if (!t.valid) {
        std::printf("[timing] %s on the device (CUDA events): NOT AVAILABLE: %s\n", what, t.error.c_str());
        ADD_FAILURE() << "no device timing for " << what << ": " << t.error;
        return;
    }
    std::printf("[timing] %s on the device (CUDA events): upload %.3f ms, compute %.3f ms, download %.3f ms\n", what, t.upload_ms, t.compute_ms,
                t.download_ms);
}

// Pixels that differ bit for bit, NaN = NaN whatever its payload (SIZE_MAX on a shape mismatch).
std::size_t differing(const Image<double>& a, const Image<double>& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return SIZE_MAX;
    std::size_t d = 0;
    for (std::size_t p = 0; p < a.size(); ++p) {
        const double x = a.data()[p], y = b.data()[p];
        if (!(std::isnan(x) && std::isnan(y)) && std::memcmp(&x, &y, sizeof x) != 0) ++d;
    }
    return d;
}

// Fills free device memory (up to 32 GiB: many times any working set here) with 0xFF bytes (a NaN in
// every double) and frees it again, so the next allocations are likely to get poisoned pages: a kernel
// that reads memory nothing wrote, or a copy that has not landed, then gives NaN or a different result
// instead of a lucky zero.
void poison_free_device_memory() {
    std::vector<void*> blocks;
    const std::size_t chunk = std::size_t(1) << 30, reserve = std::size_t(512) << 20, cap = std::size_t(32) << 30;
    std::size_t poisoned = 0;
    while (poisoned < cap) {
        std::size_t free = 0, total = 0;
        if (cudaMemGetInfo(&free, &total) != cudaSuccess || free < reserve + (std::size_t(64) << 20)) break;
        const std::size_t bytes = std::min(chunk, free - reserve);
        void* p = nullptr;
        if (cudaMalloc(&p, bytes) != cudaSuccess) {
            cudaGetLastError();
            break;
        }
        ASSERT_EQ(cudaMemset(p, 0xFF, bytes), cudaSuccess);
        blocks.push_back(p);
        poisoned += bytes;
    }
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    for (void* p : blocks) cudaFree(p);
    std::printf("[poison] %.1f GiB of free device memory filled with 0xFF and freed\n", double(poisoned) / double(1u << 30));
    EXPECT_GT(poisoned, 0u) << "nothing could be poisoned";
}

}  // namespace

TEST(CudaPsf, ComponentsMatchReferenceAndCpu) {
    struct Case {
        int channel;
        bool preflight;
        AiapyVersion v;
    };
    for (Case c : {Case{171, false, AiapyVersion::v0_10_2}, Case{171, false, AiapyVersion::v0_12_1}, Case{335, true, AiapyVersion::v0_12_1}})
        for (auto [ours, theirs] : {std::pair{cpu::Component::entrance, reference::PsfComponent::entrance},
                                    std::pair{cpu::Component::focal_plane, reference::PsfComponent::focal_plane}}) {
            const cpu::MeshParams mp = cpu::mesh_params(c.channel, c.preflight);
            Image<double> g = cuda::psf_component_cuda(mp, ours, all_orders(), c.v, 4096, true);
            reference::PsfOptions ro;
            ro.use_preflight_core = c.preflight;
            ro.version = c.v;
            auto m = validate::compare(g, reference::psf_component(c.channel, theirs, ro));
            auto mc = validate::compare(g, cpu::psf_component_cpu(mp, ours, all_orders(), c.v, 4096, true, cpu::resolve_threads(0)));
            std::printf("[accuracy] psf component %d, %d Å, aiapy %s: cuda vs reference %s; vs cpu %s\n", int(ours), c.channel,
                        std::string(to_string(c.v)).c_str(), m.summary().c_str(), mc.summary().c_str());
            EXPECT_LE(m.max_abs_over_max, bound("psf_component", "max_abs_over_max", "f64")) << m.summary();
        }
    // Dense evaluation (every spot on every pixel) against the windowed one: the window is where glibc's
    // exp() is exactly 0; the device's exp() may round differently at the underflow edge (a subnormal),
    // so this is bounded, and reported as bitwise or not.
    const cpu::MeshParams mp = cpu::mesh_params(171, false);
    for (AiapyVersion v : {AiapyVersion::v0_10_2, AiapyVersion::v0_12_1}) {
        Image<double> w = cuda::psf_component_cuda(mp, cpu::Component::entrance, all_orders(), v, 160, true);
        Image<double> d = cuda::psf_component_cuda(mp, cpu::Component::entrance, all_orders(), v, 160, false);
        auto m = validate::compare(w, d);
        std::printf("[accuracy] psf component 160², aiapy %s, windowed vs dense on the device: %s (%s)\n", std::string(to_string(v)).c_str(),
                    m.summary().c_str(), bitwise_equal(w, d) ? "bitwise equal" : "differ");
        EXPECT_LE(m.max_abs_over_max, bound("psf_component", "max_abs_over_max", "f64")) << m.summary();
    }
}

// The 171 Å PSF's timings and device times, aiapy 0.12.1's formulas against the reference (the default
// version's accuracy is the conformance suite's: tests/test_conformance.cpp, cuda_psf_*), and 1600 Å
// (no PSF) refused.
TEST(CudaPsf, Channel171TimingsAiapy0121AndRefusal) {
    Image<double> p;
    std::printf("[timing] psf 171 cuda (first call: plans): %.4f s\n", seconds([&] { p = cuda::psf_cuda(171, false, AiapyVersion::v0_10_2); }));
    std::printf("[timing] psf 171 cuda (plans cached, incl. 134 MB download): %.4f s\n",
                seconds([&] { p = cuda::psf_cuda(171, false, AiapyVersion::v0_10_2); }));
    print_device_timing("psf 171 4096²");
    Image<double> p12 = cuda::psf_cuda(171, false, AiapyVersion::v0_12_1);
    reference::PsfOptions o12;
    o12.version = AiapyVersion::v0_12_1;
    auto m12 = validate::compare(p12, reference::psf(171, o12));
    std::printf("[accuracy] psf 171 (aiapy 0.12.1) cuda vs reference: %s\n", m12.summary().c_str());
    EXPECT_LE(m12.max_abs_over_max, bound("psf", "max_abs_over_max", "f64")) << m12.summary();
    EXPECT_THROW(cuda::psf_cuda(1600, false, AiapyVersion::v0_10_2), Error);
}

TEST(CudaDeconvolve, ResidentTransformAndBatch) {
    const SmallCase& c = small_case();
    cuda::release_deconvolve_cache();
    Image<double> a = cuda::deconvolve_cuda<double>(c.img, c.psf, {.iterations = 5});
    const auto s1 = cuda::spectrum_cache_stats();
    Image<double> b = cuda::deconvolve_cuda<double>(c.img, c.psf, {.iterations = 5});
    const auto s2 = cuda::spectrum_cache_stats();
    EXPECT_EQ(s1.entries, 1u);
    EXPECT_EQ(s2.hits, s1.hits + 1) << "the second call reuses the resident H";
    EXPECT_TRUE(bitwise_equal(a, b));
    Image<double> other = c.psf;  // another PSF of the same shape: a new transform, not the stale one
    other(256, 256) *= 0.5;
    Image<double> o = cuda::deconvolve_cuda<double>(c.img, other, {.iterations = 5});
    EXPECT_EQ(cuda::spectrum_cache_stats().entries, 2u);
    EXPECT_FALSE(bitwise_equal(o, a));

    // Batch on two streams = one image at a time.
    std::vector<Image<double>> inputs;
    for (int k = 0; k < 5; ++k) {
        Image<double> im = c.img;
        for (double& v : im.pixels()) v *= 1.0 + 0.1 * k;
        inputs.push_back(std::move(im));
    }
    for (bool f32 : {false, true}) {
        std::vector<Image<double>> got(inputs.size());
        std::vector<std::size_t> order;
        auto load = [&](std::size_t k) { return inputs[k]; };
        auto store = [&](std::size_t k, Image<double>&& r) {
            order.push_back(k);
            got[k] = std::move(r);
        };
        const double t = seconds([&] {
            if (f32)
                cuda::deconvolve_batch_cuda<float>(inputs.size(), load, c.psf, 25, true, store);
            else
                cuda::deconvolve_batch_cuda<double>(inputs.size(), load, c.psf, 25, true, store);
        });
        std::printf("[timing] batch of %zu 512² images, 25 it, %s: %.4f s\n", inputs.size(), f32 ? "f32" : "f64", t);
        ASSERT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4})) << "results in order";
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            Image<double> one = f32 ? cuda::deconvolve_cuda<float>(inputs[k], c.psf, {.iterations = 25})
                                    : cuda::deconvolve_cuda<double>(inputs[k], c.psf, {.iterations = 25});
            auto m = validate::compare(got[k], one);
            EXPECT_LE(m.max_abs_over_max, bound("deconvolve", "max_abs_over_max", f32 ? "f32" : "f64")) << k << ": " << m.summary();
        }
    }
}

// The affine kernels against reference::affine_transform: a rotation with scale, order 3 and 1,
// float32 and float64 output, scipy ≤ 1.15 and ≥ 1.16 coordinate sums, plain and transposed.
TEST(CudaRegister, AffineKernelsMatchReference) {
    AiaImage src = load_aia(test::real_file("aia_171_level1.fits").string());
    const Image<double> in = crop(src.data, 0, 0, src.data.rows(), src.data.cols() - 6);  // not square
    const double th = 0.3, sc = 1.07;
    const Matrix2 m = {{{std::cos(th) / sc, -std::sin(th) / sc}, {std::sin(th) / sc, std::cos(th) / sc}}};
    const std::array<double, 2> off = {9.25, -7.5};
    for (int order : {1, 3})
        for (PixelType dt : {PixelType::f32, PixelType::f64})
            for (bool ge16 : {false, true})
                for (bool transposed : {false, true}) {
                    reference::AffineOptions ro;
                    ro.order = order;
                    ro.cval = -3.5;
                    ro.output = dt;
                    ro.coordinate_sum = ge16 ? reference::CoordinateSum::scipy_ge_1_16 : reference::CoordinateSum::scipy_le_1_15;
                    Image<double> tin = in;
                    if (transposed) {
                        tin = Image<double>(in.cols(), in.rows());
                        for (std::size_t r = 0; r < in.rows(); ++r)
                            for (std::size_t c = 0; c < in.cols(); ++c) tin(c, r) = in(r, c);
                    }
                    Image<double> want = reference::affine_transform(tin, m, off, ro);
                    cuda::RegisterJob job;
                    job.order = order;
                    for (int i = 0; i < 2; ++i) {
                        job.map.offset[i] = off[i];
                        for (int j = 0; j < 2; ++j) job.map.matrix[i][j] = m[i][j];
                    }
                    job.map.cval = -3.5;
                    job.map.output = dt;
                    job.map.scipy_ge_1_16 = ge16;
                    job.map.transposed = transposed;
                    Image<double> got = cuda::affine_transform_cuda(in, job);
                    if (transposed) {  // compare in scipy's orientation
                        Image<double> t(got.cols(), got.rows());
                        for (std::size_t r = 0; r < got.rows(); ++r)
                            for (std::size_t c = 0; c < got.cols(); ++c) t(c, r) = got(r, c);
                        got = std::move(t);
                    }
                    auto rm = validate::compare_register(got, want, -3.5);
                    std::printf("[accuracy] affine order %d %s scipy%s %s: %s\n", order, std::string(to_string(dt)).c_str(), ge16 ? "≥1.16" : "≤1.15",
                                transposed ? "transposed" : "plain", rm.summary().c_str());
                    EXPECT_LE(rm.metrics.max_abs_over_max, bound("register", "max_abs_over_max", "f64")) << rm.summary();
                    EXPECT_LE(double(rm.flips), bound("register", "edge_flips_max", "f64")) << rm.summary();
                    // float64 arithmetic without contraction, as the reference (tests/test_cuda_host.cpp proves the
                    // kernels' functions bitwise equal on the host): the float64 output must be bit for bit.
                    if (dt == PixelType::f64) {
                        EXPECT_EQ(differing(got, want), 0u) << "order " << order << " scipy≥1.16 " << ge16 << " transposed " << transposed;
                    }
                }
}

// sunpy's NaN wrapper and clip, composed from reference functions on the host.
TEST(CudaRegister, NanMaskClipAndExposureMatchReferenceComposition) {
    AiaImage src = load_aia(test::real_file("aia_171_level1.fits").string());
    Image<double> in = src.data;
    for (std::size_t r = 40; r < 44; ++r) in(r, 50) = std::numeric_limits<double>::quiet_NaN();
    const double substitute = 100.0, missing = -7.0, th = 0.2;
    const Matrix2 m = {{{std::cos(th), -std::sin(th)}, {std::sin(th), std::cos(th)}}};
    const std::array<double, 2> off = {12.0, -10.0};
    // Host composition: fill, rotate (order 3, cval missing), counts (5×5) rotated with order 1, NaN where > 0, clip.
    Image<double> filled = in;
    for (double& v : filled.pixels())
        if (std::isnan(v)) v = substitute;
    reference::AffineOptions o3;
    o3.cval = missing;
    Image<double> want = reference::affine_transform(filled, m, off, o3);
    Image<double> counts(in.rows(), in.cols(), 0.0);
    for (long r = 0; r < long(in.rows()); ++r)
        for (long c = 0; c < long(in.cols()); ++c)
            for (long i = std::max(0L, r - 2); i <= std::min(long(in.rows()) - 1, r + 2); ++i)
                for (long j = std::max(0L, c - 2); j <= std::min(long(in.cols()) - 1, c + 2); ++j)
                    if (std::isnan(in(i, j))) counts(r, c) += 1.0;
    reference::AffineOptions o1;
    o1.order = 1;
    Image<double> rc = reference::affine_transform(counts, m, off, o1);
    double in_min = INFINITY, in_max = -INFINITY, out_min = INFINITY, out_max = -INFINITY;
    for (double v : in.pixels())
        if (!std::isnan(v)) {
            in_min = std::min(in_min, v);
            in_max = std::max(in_max, v);
        }
    for (std::size_t p = 0; p < want.size(); ++p)
        if (rc.data()[p] > 0) want.data()[p] = std::numeric_limits<double>::quiet_NaN();
    for (double v : want.pixels())
        if (!std::isnan(v)) {
            out_min = std::min(out_min, v);
            out_max = std::max(out_max, v);
        }
    const double lower = std::min(std::max(missing, out_min), in_min), upper = std::max(std::min(missing, out_max), in_max);
    const double scale = 1.0 / 2.901;
    for (double& v : want.pixels()) {
        if (!std::isnan(v)) v = std::min(std::max(v, lower), upper);
        v = v * scale;
    }
    cuda::RegisterJob job;
    for (int i = 0; i < 2; ++i) {
        job.map.offset[i] = off[i];
        for (int j = 0; j < 2; ++j) job.map.matrix[i][j] = m[i][j];
    }
    job.map.cval = missing;
    job.nan = {true, substitute, 1.7976931348623157e308, false};
    job.clip = {true, missing};
    job.exposure_scale = scale;
    Image<double> got = cuda::affine_transform_cuda(in, job);
    print_device_timing("register 128² with NaN mask");
    auto rm = validate::compare_register(got, want, missing * scale);
    std::printf("[accuracy] affine with NaN mask, clip and exposure: %s\n", rm.summary().c_str());
    EXPECT_EQ(rm.metrics.nan_mismatch, 0u) << rm.summary();
    EXPECT_LE(rm.metrics.max_abs_over_max, bound("register", "max_abs_over_max", "f64")) << rm.summary();
    cuda::RegisterJob bad;
    bad.order = 6;
    EXPECT_THROW(cuda::affine_transform_cuda(in, bad), Error);
}

// Poison and repeat: the PSF (components, composite, the 4096² channel PSF) computed, all free device
// memory filled with 0xFF, computed again into fresh allocations: bit for bit the same. Catches reads
// of unwritten memory and uploads that race the kernels (the stream-ordering of the spot lists).
TEST(CudaPoison, PsfIsBitwiseRepeatableOnPoisonedMemory) {
    const cpu::MeshParams mp = cpu::mesh_params(171, false);
    for (AiapyVersion v : {AiapyVersion::v0_10_2, AiapyVersion::v0_12_1}) {
        const Image<double> c1 = cuda::psf_component_cuda(mp, cpu::Component::entrance, all_orders(), v, 1024, true);
        const Image<double> p1 = cuda::psf_cuda(171, false, v);
        for (int rep = 0; rep < 2; ++rep) {
            poison_free_device_memory();
            const Image<double> c2 = cuda::psf_component_cuda(mp, cpu::Component::entrance, all_orders(), v, 1024, true);
            poison_free_device_memory();
            const Image<double> p2 = cuda::psf_cuda(171, false, v);
            EXPECT_EQ(differing(c1, c2), 0u) << "component, aiapy " << to_string(v) << ", repeat " << rep;
            EXPECT_EQ(differing(p1, p2), 0u) << "psf 171, aiapy " << to_string(v) << ", repeat " << rep;
            for (double x : p2.pixels()) ASSERT_FALSE(std::isnan(x)) << "a NaN in the PSF: poisoned memory was read";
        }
        print_device_timing("psf 171 4096² (poisoned memory)");
    }
    const Image<double> e = cuda::psf_component_cuda(mp, cpu::Component::entrance, all_orders(), AiapyVersion::v0_12_1, 512, true);
    const Image<double> f = cuda::psf_component_cuda(mp, cpu::Component::focal_plane, all_orders(), AiapyVersion::v0_12_1, 512, true);
    const Image<double> k1 = cuda::psf_combine_cuda(e, f, AiapyVersion::v0_12_1);
    poison_free_device_memory();
    EXPECT_EQ(differing(k1, cuda::psf_combine_cuda(e, f, AiapyVersion::v0_12_1)), 0u) << "composite";
}

// Poison and repeat for Richardson–Lucy f64/f32, one image and the two-stream batch: workspaces and
// the resident transform released, free memory poisoned, everything allocated again: bit for bit.
TEST(CudaPoison, RichardsonLucyIsBitwiseRepeatableOnPoisonedMemory) {
    const SmallCase& c = small_case();
    cuda::release_deconvolve_cache();
    const Image<double> a64 = cuda::deconvolve_cuda<double>(c.img, c.psf, {.iterations = 25});
    const Image<double> a32 = cuda::deconvolve_cuda<float>(c.img, c.psf, {.iterations = 25});
    std::vector<Image<double>> batch(3);
    auto load = [&](std::size_t k) {
        Image<double> im = c.img;
        for (double& v : im.pixels()) v *= 1.0 + 0.25 * double(k);
        return im;
    };
    cuda::deconvolve_batch_cuda<double>(batch.size(), load, c.psf, 25, true, [&](std::size_t k, Image<double>&& r) { batch[k] = std::move(r); });
    for (int rep = 0; rep < 2; ++rep) {
        cuda::release_deconvolve_cache();
        poison_free_device_memory();
        EXPECT_EQ(differing(a64, cuda::deconvolve_cuda<double>(c.img, c.psf, {.iterations = 25})), 0u) << "f64, repeat " << rep;
        print_device_timing("deconvolve 512² 25 it f64 (poisoned memory)");
        cuda::release_deconvolve_cache();
        poison_free_device_memory();
        EXPECT_EQ(differing(a32, cuda::deconvolve_cuda<float>(c.img, c.psf, {.iterations = 25})), 0u) << "f32, repeat " << rep;
        cuda::release_deconvolve_cache();
        poison_free_device_memory();
        std::vector<Image<double>> again(batch.size());
        cuda::deconvolve_batch_cuda<double>(again.size(), load, c.psf, 25, true, [&](std::size_t k, Image<double>&& r) { again[k] = std::move(r); });
        for (std::size_t k = 0; k < batch.size(); ++k) EXPECT_EQ(differing(batch[k], again[k]), 0u) << "batch image " << k << ", repeat " << rep;
    }
    // Workspaces kept (no release): stale data of the earlier call instead of poison.
    EXPECT_EQ(differing(a64, cuda::deconvolve_cuda<double>(c.img, c.psf, {.iterations = 25})), 0u) << "f64 with cached workspaces";
}

// Poison and repeat for register (prefilter through shared-memory tiles, NaN mask, clip): bit for bit.
TEST(CudaPoison, RegisterIsBitwiseRepeatableOnPoisonedMemory) {
    AiaImage src = load_aia(test::real_file("aia_171_level1.fits").string());
    Image<double> in = crop(src.data, 0, 0, src.data.rows() - 3, src.data.cols() - 5);  // lines not a multiple of 32
    in(7, 9) = std::numeric_limits<double>::quiet_NaN();
    for (int order : {3, 5}) {
        cuda::RegisterJob job;
        job.order = order;
        job.map.matrix[0][0] = job.map.matrix[1][1] = std::cos(0.21);
        job.map.matrix[0][1] = -std::sin(0.21);
        job.map.matrix[1][0] = std::sin(0.21);
        job.map.offset[0] = 4.5;
        job.map.offset[1] = -3.25;
        job.map.transposed = true;
        job.nan = {true, 50.0, 1.7976931348623157e308, false};
        job.clip = {true, -2.0};
        const Image<double> a = cuda::affine_transform_cuda(in, job);
        poison_free_device_memory();
        EXPECT_EQ(differing(a, cuda::affine_transform_cuda(in, job)), 0u) << "order " << order;
    }
}

// With the device nearly full, a 4096² deconvolution is refused with Error(unsupported) naming the
// bytes needed and free — before anything is allocated — and works again once memory is back.
TEST(CudaMemory, WorkingSetThatDoesNotFitIsAClearError) {
    cuda::release_deconvolve_cache();
    std::size_t free = 0, total = 0;
    ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
    void* hog = nullptr;
    const std::size_t leave = std::size_t(256) << 20;
    if (free <= leave || cudaMalloc(&hog, free - leave) != cudaSuccess) {
        cudaGetLastError();
        GTEST_SKIP() << "could not take the device's free memory";
    }
    Image<double> img(4096, 4096, 1.0), delta(4096, 4096, 0.0);
    delta(2048, 2048) = 1.0;
    try {
        cuda::deconvolve_cuda<double>(img, delta, {.iterations = 1});
        ADD_FAILURE() << "no error with " << (leave >> 20) << " MiB free";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::unsupported) << e.what();
        std::printf("[memory] %s\n", e.what());
        EXPECT_NE(std::string(e.what()).find("Richardson-Lucy 4096x4096 f64"), std::string::npos) << e.what();
    }
    cudaFree(hog);
    auto m = validate::compare(cuda::deconvolve_cuda<double>(img, delta, {.iterations = 1}), img);  // a delta PSF: the identity
    EXPECT_LE(m.max_abs_over_max, bound("deconvolve", "max_abs_over_max", "f64", Against::exact)) << m.summary();
}

// 4096²: the derived input with the 171 Å PSF, 25 iterations, against the reference; timings printed.
TEST(CudaFullFrame, DeconvolveAccuracyAndTimings) {
    const Image<double>& psf = reference_psf_171();
    AiaImage in = derive_full_res_2x(load_aia(test::real_file(kDerived1600Source).string()));
    Image<double> ref, d64, d32;
    std::printf("[timing] deconvolve 4096² 25 it reference f64: %.2f s\n",
                seconds([&] { ref = reference::deconvolve(in.data, psf, {.iterations = 25}); }));
    for (int pass = 0; pass < 3; ++pass) {
        const char* what = pass ? "plans and H cached; includes 2×134 MB host transfers" : "first call: plans, H";
        std::printf("[timing] deconvolve 4096² 25 it cuda f64: %.4f s (%s)\n",
                    seconds([&] { d64 = cuda::deconvolve_cuda<double>(in.data, psf, {.iterations = 25}); }), what);
        print_device_timing("deconvolve 4096² 25 it f64");
        std::printf("[timing] deconvolve 4096² 25 it cuda f32: %.4f s (%s)\n",
                    seconds([&] { d32 = cuda::deconvolve_cuda<float>(in.data, psf, {.iterations = 25}); }), what);
        print_device_timing("deconvolve 4096² 25 it f32");
    }
    auto m64 = validate::compare(d64, ref), m32 = validate::compare(d32, ref);
    std::printf("[accuracy] deconvolve 4096² 25 it cuda f64 vs reference: %s\n", m64.summary().c_str());
    std::printf("[accuracy] deconvolve 4096² 25 it cuda f32 vs reference: %s\n", m32.summary().c_str());
    EXPECT_LE(m64.max_abs_over_max, bound("deconvolve", "max_abs_over_max", "f64"));
    EXPECT_LE(m32.max_abs_over_max, bound("deconvolve", "max_abs_over_max", "f32"));
    EXPECT_LE(m32.rel_l2, bound("deconvolve", "rel_l2", "f32"));
}

// 4096²: register-like affine (small rotation, order 3, float32 output, NaN band, clip) against the
// reference's affine_transform, and a batch of f32 deconvolutions through the two-stream path.
TEST(CudaFullFrame, RegisterAffineAndBatchThroughput) {
    AiaImage in = derive_full_res_2x(load_aia(test::real_file(kDerived1600Source).string()));
    const double th = 0.0123, sc = 1.0021;
    const Matrix2 m = {{{std::cos(th) / sc, -std::sin(th) / sc}, {std::sin(th) / sc, std::cos(th) / sc}}};
    const std::array<double, 2> off = {25.5, -24.75};
    reference::AffineOptions ro;
    ro.cval = 0.0;
    ro.output = PixelType::f32;
    Image<double> want;
    std::printf("[timing] affine 4096² order 3 reference: %.2f s\n", seconds([&] { want = reference::affine_transform(in.data, m, off, ro); }));
    cuda::RegisterJob job;
    for (int i = 0; i < 2; ++i) {
        job.map.offset[i] = off[i];
        for (int j = 0; j < 2; ++j) job.map.matrix[i][j] = m[i][j];
    }
    job.map.output = PixelType::f32;
    Image<double> got;
    for (int pass = 0; pass < 3; ++pass) {
        std::printf("[timing] affine 4096² order 3 cuda: %.4f s\n", seconds([&] { got = cuda::affine_transform_cuda(in.data, job); }));
        print_device_timing("register 4096² order 3 (prefilter + interpolation)");
    }
    auto rm = validate::compare_register(got, want, 0.0);
    std::printf("[accuracy] affine 4096² order 3 cuda vs reference: %s\n", rm.summary().c_str());
    EXPECT_LE(rm.metrics.max_abs_over_max, bound("register", "max_abs_over_max", "f64")) << rm.summary();
    EXPECT_LE(double(rm.flips), bound("register", "edge_flips_max", "f64")) << rm.summary();

    const Image<double>& psf = reference_psf_171();
    const std::size_t count = 8;
    std::size_t stored = 0;
    for (int pass = 0; pass < 2; ++pass) {
        const double t = seconds([&] {
            cuda::deconvolve_batch_cuda<float>(
                count, [&](std::size_t) { return in.data; }, psf, 25, true, [&](std::size_t, Image<double>&&) { ++stored; });
        });
        std::printf("[timing] batch of %zu 4096² f32 deconvolutions (25 it, two streams, incl. host copies): %.3f s = %.1f images/s%s\n", count, t,
                    double(count) / t, pass ? "" : " (first: plans)");
    }
    EXPECT_EQ(stored, 2 * count);
}
