// Order-3 B-spline prefilter (scipy.ndimage.spline_filter, mode 'mirror' initialisation, as
// affine_transform calls it for mode 'constant'; scipy 1.15–1.17 ni_splines.c apply_filter), fast
// CPU path. Written from docs/algorithms.md §3.4, not from scipy's sources. One SIMD lane per line:
//   gain:       c[i] ← c[i]·g,  g = (1 − z)(1 − 1/z)
//   causal:     c[0] ← (c[0] + zⁿ⁻¹c[n−1] + Σ zⁱ(c[i] + zⁿ⁻¹c[n−1−i])) / (1 − z²⁽ⁿ⁻¹⁾);  c[i] += z·c[i−1]
//   anticausal: c[n−1] ← (z·c[n−2] + c[n−1])·z / (z² − 1);  c[i] ← z·(c[i+1] − c[i])
// each in the scalar filter's operation order (this file is built without FMA contraction), so a
// float64 line comes out bit for bit as the reference filter gives it. Columns are filtered in place
// in blocks of a few vectors (memory walked row by row); rows are first copied into a lane-interleaved
// tile, filtered the same way, and copied back.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "fast/cpu/spline_prefilter_cpu.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "fast/common/parallel.hpp"
#include "fast/cpu/spline_prefilter_cpu.hpp"

HWY_BEFORE_NAMESPACE();
namespace aiaccel::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr double kPole = -0.267949192431122706472553658494127633;  // √3 − 2
constexpr std::size_t kBlockVectors = 4;  // vectors (lines per lane group) filtered together

// Filters `nv` ≤ kBlockVectors adjacent vectors of lines stored as columns: sample i of the lines
// starting at p is p[i·stride + 0 … nv·N − 1].
template <class T>
void FilterVectors(T* HWY_RESTRICT p, std::size_t n, std::size_t stride, std::size_t nv, bool all_finite) {
    const hn::ScalableTag<T> d;
    const std::size_t N = hn::Lanes(d);
    const T z = static_cast<T>(kPole);
    // The gain from the rounded pole in float64, rounded once: in float32 arithmetic g would come out
    // 6.000000477 instead of 6 (8.2e-8 high per axis), a 1.6e-7 excess of the register output's flux
    // that docs/validation.md §2.1's disk flux ratio measured. For T = double this is the same expression.
    const T g = static_cast<T>((1.0 - double(z)) * (1.0 - 1.0 / double(z)));
    const T zn = static_cast<T>(std::pow(static_cast<T>(kPole), static_cast<T>(n - 1)));
    const auto vz = hn::Set(d, z), vg = hn::Set(d, g), vzn = hn::Set(d, zn);
    auto at = [&](std::size_t i, std::size_t k) { return p + i * stride + k * N; };

    // Causal initialisation on the gained samples (c·g is recomputed where needed: same rounding).
    const bool skip_zn = all_finite && zn == T(0);  // zⁿ⁻¹·c[..] is then exactly +0 and adding it changes nothing but −0
    for (std::size_t k = 0; k < nv; ++k) {
        auto c0 = hn::Mul(hn::LoadU(d, at(0, k)), vg);
        c0 = hn::Add(c0, hn::Mul(vzn, hn::Mul(hn::LoadU(d, at(n - 1, k)), vg)));
        T zi = z;
        for (std::size_t i = 1; i + 1 < n; ++i) {
            if (all_finite && zi == T(0)) break;  // the remaining terms are exactly zero
            auto ci = hn::Mul(hn::LoadU(d, at(i, k)), vg);
            if (!skip_zn) ci = hn::Add(ci, hn::Mul(vzn, hn::Mul(hn::LoadU(d, at(n - 1 - i, k)), vg)));
            c0 = hn::Add(c0, hn::Mul(hn::Set(d, zi), ci));
            zi *= z;
        }
        c0 = hn::Div(c0, hn::Set(d, T(1) - zn * zn));
        hn::StoreU(c0, d, at(0, k));
    }
    // Causal recursion (the gain applied on the way).
    for (std::size_t i = 1; i < n; ++i)
        for (std::size_t k = 0; k < nv; ++k) {
            const auto prev = hn::LoadU(d, at(i - 1, k));
            hn::StoreU(hn::Add(hn::Mul(hn::LoadU(d, at(i, k)), vg), hn::Mul(vz, prev)), d, at(i, k));
        }
    // Anti-causal initialisation and recursion.
    const auto vden = hn::Set(d, z * z - T(1));
    for (std::size_t k = 0; k < nv; ++k) {
        const auto last = hn::Mul(hn::Add(hn::Mul(vz, hn::LoadU(d, at(n - 2, k))), hn::LoadU(d, at(n - 1, k))), vz);
        hn::StoreU(hn::Div(last, vden), d, at(n - 1, k));
    }
    for (std::size_t i = n - 1; i-- > 0;)
        for (std::size_t k = 0; k < nv; ++k) hn::StoreU(hn::Mul(vz, hn::Sub(hn::LoadU(d, at(i + 1, k)), hn::LoadU(d, at(i, k)))), d, at(i, k));
}

// The lines are the `width` columns of a rows(n)×stride array starting at p.
template <class T>
void FilterColumnsT(T* p, std::size_t n, std::size_t stride, std::size_t width, bool all_finite) {
    const hn::ScalableTag<T> d;
    const std::size_t N = hn::Lanes(d);
    if (n <= 1 || width == 0) return;
    std::size_t j = 0;
    for (; j + N <= width; j += N * kBlockVectors) {
        const std::size_t nv = std::min(kBlockVectors, (width - j) / N);
        FilterVectors(p + j, n, stride, nv, all_finite);
        if (nv < kBlockVectors) {
            j += nv * N;
            break;
        }
    }
    if (j < width) {  // fewer columns than one vector: through a zero-padded tile
        const std::size_t w = width - j;
        std::vector<T> tile(n * N, T(0));
        for (std::size_t i = 0; i < n; ++i) std::copy_n(p + i * stride + j, w, tile.data() + i * N);
        FilterVectors(tile.data(), n, N, 1, all_finite);
        for (std::size_t i = 0; i < n; ++i) std::copy_n(tile.data() + i * N, w, p + i * stride + j);
    }
}

// `count` rows of length n starting at p (row stride n): transposed into a tile (one row per lane),
// filtered as columns, transposed back.
template <class T>
void FilterRowsT(T* p, std::size_t n, std::size_t count, bool all_finite) {
    const hn::ScalableTag<T> d;
    const std::size_t W = hn::Lanes(d) * kBlockVectors;
    if (n <= 1) return;
    std::vector<T> tile(n * W);
    for (std::size_t r0 = 0; r0 < count; r0 += W) {
        const std::size_t w = std::min(W, count - r0);
        if (w < W) std::fill(tile.begin(), tile.end(), T(0));
        // Tile rows are written (and read back) contiguously; the w image rows are w sequential streams.
        const T* src = p + r0 * n;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < w; ++k) tile[i * W + k] = src[k * n + i];
        FilterColumnsT(tile.data(), n, W, W, all_finite);
        T* dst = p + r0 * n;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < w; ++k) dst[k * n + i] = tile[i * W + k];
    }
}

void FilterRowsF64(double* p, std::size_t n, std::size_t count, bool f) { FilterRowsT(p, n, count, f); }
void FilterRowsF32(float* p, std::size_t n, std::size_t count, bool f) { FilterRowsT(p, n, count, f); }
void FilterColumnsF64(double* p, std::size_t n, std::size_t stride, std::size_t width, bool f) { FilterColumnsT(p, n, stride, width, f); }
void FilterColumnsF32(float* p, std::size_t n, std::size_t stride, std::size_t width, bool f) { FilterColumnsT(p, n, stride, width, f); }
std::size_t BlockWidthF64() { return hn::Lanes(hn::ScalableTag<double>()) * kBlockVectors; }
std::size_t BlockWidthF32() { return hn::Lanes(hn::ScalableTag<float>()) * kBlockVectors; }
const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace aiaccel::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aiaccel::cpu {
HWY_EXPORT(FilterRowsF64);
HWY_EXPORT(FilterRowsF32);
HWY_EXPORT(FilterColumnsF64);
HWY_EXPORT(FilterColumnsF32);
HWY_EXPORT(BlockWidthF64);
HWY_EXPORT(BlockWidthF32);
HWY_EXPORT(TargetName);

namespace {
// x (rows) first, then y (columns): scipy filters axis 0 then axis 1 of the transposed array.
template <class T, class Rows, class Cols>
void prefilter(T* data, std::size_t rows, std::size_t cols, bool all_finite, int threads, Rows filter_rows, Cols filter_cols, std::size_t block) {
    const std::size_t row_groups = (rows + block - 1) / block;
    parallel_for(row_groups, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        const std::size_t r0 = b * block, r1 = std::min(rows, e * block);
        if (r1 > r0) filter_rows(data + r0 * cols, cols, r1 - r0, all_finite);
    });
    const std::size_t col_blocks = (cols + block - 1) / block;
    parallel_for(col_blocks, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        const std::size_t c0 = b * block, c1 = std::min(cols, e * block);
        if (c1 > c0) filter_cols(data + c0, rows, cols, c1 - c0, all_finite);
    });
}
}  // namespace

void spline_prefilter_order3_cpu(double* data, std::size_t rows, std::size_t cols, bool all_finite, int threads) {
    prefilter(data, rows, cols, all_finite, resolve_threads(threads), HWY_DYNAMIC_DISPATCH(FilterRowsF64), HWY_DYNAMIC_DISPATCH(FilterColumnsF64),
              HWY_DYNAMIC_DISPATCH(BlockWidthF64)());
}
void spline_prefilter_order3_cpu(float* data, std::size_t rows, std::size_t cols, bool all_finite, int threads) {
    prefilter(data, rows, cols, all_finite, resolve_threads(threads), HWY_DYNAMIC_DISPATCH(FilterRowsF32), HWY_DYNAMIC_DISPATCH(FilterColumnsF32),
              HWY_DYNAMIC_DISPATCH(BlockWidthF32)());
}
const char* spline_prefilter_cpu_target() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace aiaccel::cpu
#endif  // HWY_ONCE
