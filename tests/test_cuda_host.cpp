// Host-side logic of the CUDA backend, tested without a GPU (suite 'fast', every build): memory
// budgets and the clear error when a working set does not fit, launch geometry, cuFFT plan and PSF
// spectrum keys, the LRU policy of resident PSF transforms, the two-stream batch schedule, and the PSF's spot/tile lists — the last
// by emulating on the host, in the kernels' per-pixel order, the spike sum and normalisation the
// device runs, and checking it bit for bit against fast/cpu's psf_component_cpu; likewise the
// register kernels' arithmetic (register_math.hpp, compiled here for the host) against reference/, and
// the backend's whole register (register_cuda_host: plan, padded frame, one job, crop, header) with
// that arithmetic standing in for the device, on the real files and synthetic maps.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <limits>
#include <unordered_set>

#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "fast/cpu/psf_cpu.hpp"
#include "fast/cuda/cuda_host.hpp"
#include "fast/cuda/psf_cuda_host.hpp"
#include "fast/cuda/psf_math.hpp"
#include "fast/cuda/register_cuda.hpp"
#include "fast/cuda/register_cuda_host.hpp"
#include "fast/cuda/register_math.hpp"
#include "fast/cuda/spectrum_cache.hpp"
#include "fast/cuda/two_slot_pipeline.hpp"
#include "reference/register_reference.hpp"
#include "reference/spline_reference.hpp"
#include "tests/register_cases.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
using namespace aiaccel::cuda;

namespace {

std::vector<int> all_orders() {
    std::vector<int> o;
    for (int m = -100; m <= 100; ++m) o.push_back(m);
    return o;
}

// What psf_cuda.cu's kernels compute, with their per-pixel functions (psf_math.hpp): spike sum per pixel
// over the tile's list, row sums left to right, ΣS in row order, then the normalisation with the core.
Image<double> emulate_component(const cpu::MeshParams& mp, cpu::Component c, AiapyVersion v, std::size_t n, bool windowed) {
    const auto spots = psf_spots(mp, c, all_orders(), v, n, windowed);
    const TileLists tl = psf_tile_lists(spots, n, kPsfTileRows, kPsfTileCols);
    const PsfCore core = psf_core(mp, v, n, windowed);
    const bool v10 = v == AiapyVersion::v0_10_2;
    Image<double> S(n, n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            const std::size_t tile = (i / kPsfTileRows) * tl.tiles_x + j / kPsfTileCols;
            const auto b = tl.offsets[tile], e = tl.offsets[tile + 1];
            S(i, j) = v10 ? psfmath::spike_sum<true>(spots.data(), tl.spots.data(), b, e, int(i), int(j), mp.width)
                          : psfmath::spike_sum<false>(spots.data(), tl.spots.data(), b, e, int(i), int(j), mp.width);
        }
    double sum_s = 0;  // row_sums_kernel + total_kernel
    for (std::size_t i = 0; i < n; ++i) {
        double acc = 0;
        for (std::size_t j = 0; j < n; ++j) acc += S(i, j);
        sum_s += acc;
    }
    const auto cn = (long long)core.block.rows();
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            const double cv = psfmath::core_at(core.block.data(), core.lo, cn, (long long)i, (long long)j);
            S(i, j) = v10 ? psfmath::normalise<true>(S(i, j), cv, sum_s, core.sum) : psfmath::normalise<false>(S(i, j), cv, sum_s, core.sum);
        }
    return S;
}

}  // namespace

TEST(CudaHostBudget, RichardsonLucyBytesAtFullFrame) {
    const std::size_t n = 4096, N = n * n, ns = n * (n / 2 + 1);
    const Budget b = rl_budget(n, n, Precision::f64);
    EXPECT_EQ(b.buffers, 3 * N * 8 + ns * 16 + N * 8 + ns * 16);  // img,u,est,spec + transient rolled PSF and its spectrum
    EXPECT_EQ(b.resident, ns * 16);
    EXPECT_EQ(b.fft_workspace, 3 * ns * 16);
    const Budget f = rl_budget(n, n, Precision::f32);
    EXPECT_EQ(f.buffers, 3 * N * 4 + ns * 8 + N * 8 + N * 8 + ns * 16);
    EXPECT_EQ(f.resident, ns * 8);
    EXPECT_LT(f.total(), b.total());
    // A cached workspace and a resident H leave nothing to allocate.
    EXPECT_EQ(rl_budget(n, n, Precision::f64, true, true).total(), 0u);
    EXPECT_EQ(rl_budget(n, n, Precision::f32, false, true).resident, 0u);
    std::printf("[budget] RL 4096² f64 %s, f32 %s; PSF %s\n", format_bytes(b.total()).c_str(), format_bytes(f.total()).c_str(),
                format_bytes(psf_budget(n, 0, 0).total()).c_str());
}

TEST(CudaHostBudget, TooLittleFreeMemoryIsAClearError) {
    const Budget b = rl_budget(4096, 4096, Precision::f64);
    EXPECT_NO_THROW(require_fits(b, b.total() + kDeviceReserveBytes, "test GPU"));
    EXPECT_TRUE(fits(b, b.total() + kDeviceReserveBytes));
    EXPECT_FALSE(fits(b, b.total() + kDeviceReserveBytes - 1));
    try {
        require_fits(b, std::size_t(512) << 20, "NVIDIA Test GPU");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::unsupported);
        const std::string m = e.what();
        EXPECT_NE(m.find("Richardson-Lucy 4096x4096 f64"), std::string::npos) << m;
        EXPECT_NE(m.find("512.0 MiB is free on NVIDIA Test GPU"), std::string::npos) << m;
        EXPECT_NE(m.find("--backend cpu"), std::string::npos) << m;
    }
    EXPECT_FALSE(fits(register_budget(4096, 4096, 4096, 4096, true), 0));
    EXPECT_EQ(format_bytes(900), "900 B");
    EXPECT_EQ(format_bytes(std::size_t(3) << 29), "1.50 GiB");
}

TEST(CudaHostLaunch, GridsCoverTheWorkAndRespectLimits) {
    EXPECT_EQ(launch_1d(0).blocks, 0u);
    EXPECT_EQ(launch_1d(1).blocks, 1u);
    EXPECT_EQ(launch_1d(256).blocks, 1u);
    EXPECT_EQ(launch_1d(257).blocks, 2u);
    EXPECT_EQ(launch_1d(std::size_t(1) << 40, 256, 1000).blocks, 1000u);  // capped: kernels stride
    const Launch2d l = launch_2d(4096, 4094);
    EXPECT_EQ(l.bx, 32u);
    EXPECT_EQ(l.by, 8u);
    EXPECT_EQ(l.gx, 128u);  // ceil(4094 / 32)
    EXPECT_EQ(l.gy, 512u);
    EXPECT_GE(std::size_t(l.gx) * l.bx, 4094u);
    EXPECT_THROW(launch_2d(std::size_t(65536) * 8 + 1, 16), Error);
}

TEST(CudaHostKeys, PlanAndSpectrumKeysTellCasesApart) {
    std::unordered_set<PlanKey, PlanKeyHash> plans;
    for (std::size_t n : {512u, 4096u})
        for (Precision p : {Precision::f64, Precision::f32})
            for (FftKind k : {FftKind::r2c, FftKind::c2r})
                for (int slot : {0, 1, 2}) plans.insert({n, n, p, k, slot});
    EXPECT_EQ(plans.size(), 24u);
    EXPECT_TRUE(plans.count({512, 512, Precision::f32, FftKind::c2r, 1}));

    Image<double> a(64, 64);
    for (std::size_t p = 0; p < a.size(); ++p) a.data()[p] = std::sin(double(p));
    Image<double> b = a;
    EXPECT_EQ(spectrum_key(a, Precision::f64), spectrum_key(b, Precision::f64));
    EXPECT_FALSE(spectrum_key(a, Precision::f64) == spectrum_key(a, Precision::f32));
    b.data()[4095] = std::nextafter(b.data()[4095], 2.0);  // one ulp in the last pixel
    EXPECT_NE(content_hash(a), content_hash(b));
    b = a;
    b.data()[7] = -0.0 * b.data()[7];
    EXPECT_NE(content_hash(a), content_hash(b));
    Image<double> big(2048, 1024);  // the chunked, threaded path: a change in any chunk shows
    for (std::size_t p = 0; p < big.size(); ++p) big.data()[p] = double(p % 1013);
    const std::uint64_t hb = content_hash(big);
    EXPECT_EQ(content_hash(big), hb) << "deterministic";
    for (std::size_t p : {std::size_t(0), big.size() / 2 + 3, big.size() - 1}) {
        Image<double> c = big;
        c.data()[p] += 1.0;
        EXPECT_NE(content_hash(c), hb) << "pixel " << p;
    }
    Image<double> t(32, 128);  // same bytes, other shape
    std::memcpy(t.data(), a.data(), a.size() * sizeof(double));
    EXPECT_FALSE(spectrum_key(a, Precision::f64) == spectrum_key(t, Precision::f64));
}

TEST(CudaHostSpectrumCache, LeastRecentlyUsedWithinEntryAndByteBounds) {
    auto key = [](std::uint64_t c) { return SpectrumKey{4096, 4096, Precision::f64, c}; };
    SpectrumCache<int> cache(2, 1000);
    EXPECT_EQ(cache.find(key(1)), nullptr);
    cache.insert(key(1), 10, 100);
    cache.insert(key(2), 20, 100);
    ASSERT_NE(cache.find(key(1)), nullptr);  // 1 is now the most recent
    cache.insert(key(3), 30, 100);  // evicts 2
    EXPECT_EQ(cache.find(key(2)), nullptr);
    EXPECT_EQ(*cache.find(key(1)), 10);
    EXPECT_EQ(*cache.find(key(3)), 30);
    EXPECT_EQ(cache.evictions(), 1u);
    EXPECT_EQ(cache.bytes(), 200u);
    cache.insert(key(4), 40, 950);  // the entry bound evicts 1, then the byte bound 3
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.bytes(), 950u);
    EXPECT_EQ(cache.find(key(3)), nullptr);
    cache.insert(key(5), 50, 5000);  // larger than the bound: kept alone, the stage needs it now
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(*cache.find(key(5)), 50);
    EXPECT_GE(cache.hits(), 4u);
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
}

TEST(CudaHostPsf, TileListsHoldExactlyTheSpotsTouchingEachTile) {
    const cpu::MeshParams mp = cpu::mesh_params(171, false);
    const std::size_t n = 4096;
    for (AiapyVersion v : {AiapyVersion::v0_10_2, AiapyVersion::v0_12_1}) {
        const auto spots = psf_spots(mp, cpu::Component::entrance, all_orders(), v, n, true);
        EXPECT_EQ(spots.size(), v == AiapyVersion::v0_10_2 ? 800u : 804u);  // 0.10.2 skips order 0
        const TileLists tl = psf_tile_lists(spots, n, kPsfTileRows, kPsfTileCols);
        ASSERT_EQ(tl.offsets.size(), tl.tiles_x * tl.tiles_y + 1);
        std::size_t checked = 0;
        for (std::size_t t = 0; t < tl.tiles_x * tl.tiles_y; t += 97) {  // a spread of tiles
            const long r0 = long(t / tl.tiles_x * kPsfTileRows), c0 = long(t % tl.tiles_x * kPsfTileCols);
            std::vector<std::uint32_t> want;
            for (std::size_t s = 0; s < spots.size(); ++s)
                if (spots[s].r0 < r0 + long(kPsfTileRows) && spots[s].r1 > r0 && spots[s].c0 < c0 + long(kPsfTileCols) && spots[s].c1 > c0)
                    want.push_back(std::uint32_t(s));
            std::vector<std::uint32_t> got(tl.spots.begin() + tl.offsets[t], tl.spots.begin() + tl.offsets[t + 1]);
            ASSERT_EQ(got, want) << "tile " << t;
            checked += want.size();
        }
        EXPECT_GT(checked, 0u);
        std::printf("[psf tiles] 171 Å entrance, aiapy %s: %zu spots, %zu tile entries over %zu tiles\n", std::string(to_string(v)).c_str(),
                    spots.size(), tl.spots.size(), tl.tiles_x * tl.tiles_y);
    }
}

// The device algorithm (tile lists, per-pixel order, row sums, host core) reproduces psf_cpu bit for
// bit when run on the host; on the device only exp() may differ (by an ulp; tests/test_cuda_backend.cpp).
TEST(CudaHostPsf, KernelOrderEmulationEqualsCpuComponentBitwise) {
    for (AiapyVersion v : {AiapyVersion::v0_10_2, AiapyVersion::v0_12_1})
        for (bool preflight : {false, true})
            for (cpu::Component c : {cpu::Component::entrance, cpu::Component::focal_plane})
                for (bool windowed : {true, false}) {
                    const cpu::MeshParams mp = cpu::mesh_params(193, preflight);
                    const std::size_t n = 160;
                    const Image<double> want = cpu::psf_component_cpu(mp, c, all_orders(), v, n, windowed, 1);
                    const Image<double> got = emulate_component(mp, c, v, n, windowed);
                    EXPECT_EQ(std::memcmp(got.data(), want.data(), n * n * sizeof(double)), 0)
                        << "aiapy " << to_string(v) << " preflight " << preflight << " component " << int(c) << " windowed " << windowed;
                }
}

// The batch schedule: slots alternate, a slot is waited for before it is reused, loads run before the
// wait (overlap), results leave in input order, and nothing is left in flight.
TEST(CudaHostPipeline, TwoSlotsAlternateAndResultsLeaveInOrder) {
    for (std::size_t count : {0u, 1u, 2u, 3u, 6u}) {
        std::vector<std::string> log;
        std::vector<std::size_t> stored;
        std::array<int, 2> in_flight{-1, -1};
        run_two_slot_pipeline(
            count,
            [&](std::size_t k) {
                log.push_back("load " + std::to_string(k));
                return int(k) * 10;
            },
            [&](int slot, std::size_t k, int item) {
                EXPECT_EQ(slot, int(k % 2));
                EXPECT_EQ(item, int(k) * 10);
                EXPECT_EQ(in_flight[std::size_t(slot)], -1) << "slot " << slot << " reused before it was waited for";
                in_flight[std::size_t(slot)] = int(k);
                log.push_back("submit " + std::to_string(k));
            },
            [&](int slot, std::size_t k) {
                EXPECT_EQ(in_flight[std::size_t(slot)], int(k));
                in_flight[std::size_t(slot)] = -1;
                stored.push_back(k);
                log.push_back("finish " + std::to_string(k));
            });
        std::vector<std::size_t> want(count);
        for (std::size_t k = 0; k < count; ++k) want[k] = k;
        EXPECT_EQ(stored, want) << "count " << count;
        EXPECT_EQ(in_flight[0], -1);
        EXPECT_EQ(in_flight[1], -1);
        if (count == 6) {  // image 2 is loaded while 0 and 1 are in flight, and 0 is collected only after that
            const auto pos = [&](const std::string& e) { return std::find(log.begin(), log.end(), e) - log.begin(); };
            EXPECT_LT(pos("submit 1"), pos("load 2"));
            EXPECT_LT(pos("load 2"), pos("finish 0"));
            EXPECT_LT(pos("finish 0"), pos("submit 2"));
        }
    }
}

namespace {

namespace rm = aiaccel::cuda::regmath;

template <int Order>
void emulate_pixels(const Image<double>& coef, const double* counts, const rm::Geometry& g, double cval, int dtype, Image<double>& out) {
    for (std::size_t fr = 0; fr < out.rows(); ++fr)
        for (std::size_t fc = 0; fc < out.cols(); ++fc) {
            const long long o0 = g.transposed ? (long long)fc : (long long)fr, o1 = g.transposed ? (long long)fr : (long long)fc;
            out(fr, fc) = rm::output_pixel<Order>(coef.data(), counts, g, o0, o1, cval, dtype);
        }
}

rm::MinMax host_stats(const Image<double>& a) {
    rm::MinMax m{0, 0, 0};
    for (double v : a.pixels())
        if (!rm::is_nan(v)) m = rm::merge(m, rm::MinMax{v, v, 1});
    return m;
}

// register_cuda.cu's passes, run on the host with the same functions as the kernels.
Image<double> emulate_affine(const Image<double>& in, const cuda::RegisterJob& job) {
    const int order = job.order;
    Image<double> coef = in, counts;
    const rm::MinMax in_stats = host_stats(in);
    if (job.nan.enabled) {
        counts = Image<double>(in.rows(), in.cols());
        for (std::size_t r = 0; r < in.rows(); ++r)
            for (std::size_t c = 0; c < in.cols(); ++c)
                counts(r, c) =
                    rm::nan_count(in.data(), (long long)in.rows(), (long long)in.cols(), rm::kNanMaskSize[order] / 2, (long long)r, (long long)c);
        for (double& v : coef.pixels()) v = rm::fill_value(v, job.nan.substitute, job.nan.big, job.nan.integer_dtype);
    }
    if (job.prefilter && order > 1)
        for (const rm::LinePass& p : rm::prefilter_passes(in.rows(), in.cols(), job.map.transposed))
            for (std::size_t line = 0; line < p.lines; ++line)
                rm::prefilter_line_chunked(coef.data() + line * p.line_step, p.len, p.elem_step, rm::poles_for(order, p.len));
    const rm::Geometry g = rm::make_geometry(job.map, in.rows(), in.cols());
    Image<double> out(std::size_t(g.transposed ? g.out1 : g.out0), std::size_t(g.transposed ? g.out0 : g.out1));
    const double cval = rm::store_as(job.map.cval, int(job.map.output));
    const double* cnt = job.nan.enabled ? counts.data() : nullptr;
    const int dt = int(job.map.output);
    switch (order) {
        case 0: emulate_pixels<0>(coef, cnt, g, cval, dt, out); break;
        case 1: emulate_pixels<1>(coef, cnt, g, cval, dt, out); break;
        case 2: emulate_pixels<2>(coef, cnt, g, cval, dt, out); break;
        case 3: emulate_pixels<3>(coef, cnt, g, cval, dt, out); break;
        case 4: emulate_pixels<4>(coef, cnt, g, cval, dt, out); break;
        default: emulate_pixels<5>(coef, cnt, g, cval, dt, out); break;
    }
    if (job.clip.enabled || job.exposure_scale != 1.0) {
        double lower = 0, upper = 0;
        const bool do_clip = rm::clip_bounds(job.clip.enabled, job.clip.missing, in_stats, host_stats(out), lower, upper);
        for (double& v : out.pixels()) v = rm::finish_value(v, do_clip, lower, upper, dt, job.exposure_scale);
    }
    return out;
}

Image<double> transpose(const Image<double>& a) {
    Image<double> t(a.cols(), a.rows());
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c) t(c, r) = a(r, c);
    return t;
}

// Bitwise equality with NaN = NaN (any payload).
std::size_t differing(const Image<double>& a, const Image<double>& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return std::size_t(-1);
    std::size_t d = 0;
    for (std::size_t p = 0; p < a.size(); ++p) {
        const double x = a.data()[p], y = b.data()[p];
        if (!(std::isnan(x) && std::isnan(y)) && std::memcmp(&x, &y, sizeof x) != 0) ++d;
    }
    return d;
}

// A smooth, non-square test image with structure at every scale and negative values.
Image<double> test_image(std::size_t rows, std::size_t cols) {
    Image<double> a(rows, cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            a(r, c) = 1000.0 * std::sin(0.07 * double(r)) * std::cos(0.05 * double(c)) + 37.0 * std::sin(double(r * cols + c)) + 150.0;
    return a;
}

}  // namespace

// The prefilter kernel's chunk passes (gain folded into the first read, mirror sum, causal, anti-causal,
// kChunk samples at a time) equal reference::spline_filter_line and the direct loop bit for bit, for
// every order and for lengths around the chunk size (1, 2, a partial chunk, exact chunks, one more).
TEST(CudaHostRegister, ChunkedPrefilterEqualsReferenceLineBitwise) {
    std::size_t lines = 0;
    for (int order = 2; order <= 5; ++order)
        for (std::size_t len : {1u, 2u, 3u, 5u, 31u, 32u, 33u, 63u, 64u, 65u, 100u, 257u}) {
            for (std::size_t step : {1u, 3u}) {
                std::vector<double> base(len * step, -1.0);
                for (std::size_t i = 0; i < len; ++i) base[i * step] = 300.0 * std::sin(0.37 * double(i) + double(order)) + double(i % 7);
                std::vector<double> want = base, direct = base, got = base;
                reference::spline_filter_line(want.data(), len, step, order);
                rm::prefilter_line(direct.data(), len, step, rm::poles_for(order, len));
                rm::prefilter_line_chunked(got.data(), len, step, rm::poles_for(order, len));
                ASSERT_EQ(std::memcmp(direct.data(), want.data(), want.size() * sizeof(double)), 0) << "direct, order " << order << " len " << len;
                ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(double)), 0)
                    << "chunked, order " << order << " len " << len << " step " << step;
                ++lines;
            }
        }
    std::printf("[register math] %zu prefilter lines: chunked passes bitwise equal to reference::spline_filter_line\n", lines);
}

// The kernels' arithmetic equals the reference port of scipy bit for bit: every order, dtypes
// float64/float32/int16/uint8, both coordinate sums, plain and transposed (sunpy's image.T call),
// a map that scales, rotates and shifts, and a larger output than the input.
TEST(CudaHostRegister, KernelArithmeticEqualsReferenceBitwise) {
    const Image<double> in = test_image(40, 52);
    const double th = 0.37, sc = 0.93;
    const Matrix2 m = {{{std::cos(th) / sc, -std::sin(th) / sc}, {std::sin(th) / sc, std::cos(th) / sc}}};
    const std::array<double, 2> off = {6.25, -9.5};
    std::size_t cases = 0;
    for (int order = 0; order <= 5; ++order)
        for (PixelType dt : {PixelType::f64, PixelType::f32, PixelType::i16, PixelType::u8})
            for (bool ge16 : {false, true})
                for (bool transposed : {false, true}) {
                    reference::AffineOptions ro;
                    ro.order = order;
                    ro.cval = -3.5;
                    ro.output = dt;
                    ro.coordinate_sum = ge16 ? reference::CoordinateSum::scipy_ge_1_16 : reference::CoordinateSum::scipy_le_1_15;
                    const Image<double> want = reference::affine_transform(transposed ? transpose(in) : in, m, off, ro, 48, 45);
                    cuda::RegisterJob job;
                    job.order = order;
                    for (int i = 0; i < 2; ++i) {
                        job.map.offset[i] = off[i];
                        for (int j = 0; j < 2; ++j) job.map.matrix[i][j] = m[i][j];
                    }
                    job.map.out_rows = 48;
                    job.map.out_cols = 45;
                    job.map.cval = -3.5;
                    job.map.output = dt;
                    job.map.scipy_ge_1_16 = ge16;
                    job.map.transposed = transposed;
                    Image<double> got = emulate_affine(in, job);
                    if (transposed) got = transpose(got);
                    ASSERT_EQ(differing(got, want), 0u)
                        << "order " << order << " dtype " << to_string(dt) << " scipy≥1.16 " << ge16 << " transposed " << transposed;
                    ++cases;
                }
    std::printf("[register math] %zu cases bitwise equal to reference::affine_transform\n", cases);
}

// sunpy's NaN wrapper, clip and the exposure scale, against the same steps composed from reference/.
TEST(CudaHostRegister, NanMaskClipAndExposureEqualReferenceComposition) {
    Image<double> in = test_image(36, 44);
    for (std::size_t r = 10; r < 13; ++r) in(r, 20) = std::numeric_limits<double>::quiet_NaN();
    in(30, 3) = std::numeric_limits<double>::infinity();
    for (int order : {1, 3, 5}) {
        const double substitute = 120.0, missing = -7.0, big = 1.7976931348623157e308, th = 0.2;
        const Matrix2 m = {{{std::cos(th), -std::sin(th)}, {std::sin(th), std::cos(th)}}};
        const std::array<double, 2> off = {5.0, -4.0};
        Image<double> filled = in;
        for (double& v : filled.pixels()) v = std::isnan(v) ? substitute : std::isinf(v) ? (v > 0 ? big : -big) : v;
        reference::AffineOptions ov;
        ov.order = order;
        ov.cval = missing;
        Image<double> want = reference::affine_transform(filled, m, off, ov);
        const int k = order < 2 ? 1 : order < 4 ? 5 : 7;
        Image<double> counts(in.rows(), in.cols(), 0.0);
        for (long r = 0; r < long(in.rows()); ++r)
            for (long c = 0; c < long(in.cols()); ++c)
                for (long i = std::max(0L, r - k / 2); i <= std::min(long(in.rows()) - 1, r + k / 2); ++i)
                    for (long j = std::max(0L, c - k / 2); j <= std::min(long(in.cols()) - 1, c + k / 2); ++j)
                        if (std::isnan(in(i, j))) counts(r, c) += 1.0;
        reference::AffineOptions o1;
        o1.order = 1;
        const Image<double> rc = reference::affine_transform(counts, m, off, o1);
        for (std::size_t p = 0; p < want.size(); ++p)
            if (rc.data()[p] > 0) want.data()[p] = std::numeric_limits<double>::quiet_NaN();
        double in_min = INFINITY, in_max = -INFINITY, out_min = INFINITY, out_max = -INFINITY;
        for (double v : in.pixels())
            if (!std::isnan(v)) {
                in_min = std::min(in_min, v);
                in_max = std::max(in_max, v);
            }
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
        job.order = order;
        for (int i = 0; i < 2; ++i) {
            job.map.offset[i] = off[i];
            for (int j = 0; j < 2; ++j) job.map.matrix[i][j] = m[i][j];
        }
        job.map.cval = missing;
        job.nan = {true, substitute, big, false};
        job.clip = {true, missing};
        job.exposure_scale = scale;
        const Image<double> got = emulate_affine(in, job);
        std::size_t nan_got = 0;
        for (double v : got.pixels()) nan_got += std::isnan(v);
        EXPECT_GT(nan_got, 3u) << "the NaN mask dilates";
        EXPECT_EQ(differing(got, want), 0u) << "order " << order;
    }
}

namespace {

// The cuda backend's register (register_image_with) with its one device job run by emulate_affine
// against reference::register_image: pixels, dtype and every keyword register writes, bit for bit.
void expect_register_as_reference(const AiaImage& in, const RegisterRequest& req, const std::string& what) {
    reference::RegisterOptions ro;
    ro.missing = req.missing;
    ro.order = req.order;
    ro.full_frame = req.full_frame;
    const AiaImage want = reference::register_image(in, ro);
    const AiaImage got = register_image_with(in, req, emulate_affine);
    EXPECT_EQ(got.dtype, want.dtype) << what;
    EXPECT_EQ(differing(got.data, want.data), 0u) << what << ": " << got.data.rows() << "x" << got.data.cols() << " vs " << want.data.rows() << "x"
                                                  << want.data.cols();
    for (const char* k : {"CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CDELT1", "CDELT2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "R_SUN", "LVL_NUM"})
        EXPECT_EQ(got.header.get_double(k), want.header.get_double(k)) << what << ": " << k;
    for (const char* k : {"CROTA2", "CD1_1"}) EXPECT_FALSE(got.header.has(k)) << what << ": " << k;
    std::size_t nan = 0;
    for (double v : got.data.pixels()) nan += std::isnan(v);
    std::printf("[register plan] %s: %zux%zu, %zu NaN, bitwise equal to reference::register_image\n", what.c_str(), got.data.rows(), got.data.cols(),
                nan);
}

}  // namespace

TEST(CudaHostRegister, BackendRegisterOnRealFilesEqualsReferenceBitwise) {
    for (const char* name : {"aia_171_level1.fits", kDerived1600Source})
        expect_register_as_reference(load_aia(test::real_file(name).string()), {}, name);
    // The cut-out is refused before any device work, with the reference's message.
    const AiaImage cut = load_aia(test::real_file("aia_171_cutout.fits").string());
    std::string want, got;
    try {
        (void)reference::register_image(cut);
    } catch (const Error& e) { want = e.what(); }
    try {
        (void)register_image_with(cut, {}, [](const Image<double>&, const RegisterJob&) -> Image<double> {
            ADD_FAILURE() << "a device job ran for a refused input";
            return {};
        });
    } catch (const Error& e) { got = e.what(); }
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(got, want);
}

// Every synthetic case (tests/register_cases: padding, crop, NaN, clip, dtypes, --full-frame, orders 1/3/5).
TEST(CudaHostRegister, BackendRegisterOnSyntheticMapsEqualsReferenceBitwise) {
    for (const test::RegisterCase& c : test::synthetic_register_cases()) expect_register_as_reference(c.input(), c.request(), c.name());
}

// The four quadrant copies of the PSF upload are numpy's roll by (rows/2, cols/2).
TEST(CudaHostRoll, QuadrantCopiesEqualRollByHalf) {
    for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{8, 8}, {6, 10}, {4096, 4096}}) {
        if (rows * cols > 1000) {  // shape only at full size
            std::size_t covered = 0;
            for (const CopyRect& q : roll_half_copies(rows, cols)) covered += q.rows * q.cols;
            EXPECT_EQ(covered, rows * cols);
            continue;
        }
        Image<double> src(rows, cols), dst(rows, cols, -1.0);
        for (std::size_t p = 0; p < src.size(); ++p) src.data()[p] = double(p);
        for (const CopyRect& q : roll_half_copies(rows, cols))
            for (std::size_t r = 0; r < q.rows; ++r)
                for (std::size_t c = 0; c < q.cols; ++c) dst(q.dst_row + r, q.dst_col + c) = src(q.src_row + r, q.src_col + c);
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < cols; ++j)
                ASSERT_EQ(dst((i + rows / 2) % rows, (j + cols / 2) % cols), src(i, j)) << rows << "x" << cols << " at " << i << "," << j;
    }
}
