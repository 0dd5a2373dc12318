// Order-3 spline interpolation at affine coordinates, mode 'constant' (scipy.ndimage.affine_transform's
// NI_GeometricTransform loop and get_spline_interpolation_weights, scipy 1.15–1.17), fast CPU path.
// Written from docs/algorithms.md §3.4, not from scipy's sources. Per output pixel: X, Y in float64 in
// scipy's summation order; outside [0, n−1] → cval; f = floor, t = X − f, u = 1 − t,
//   w1 = (((t·t)·(t−2))·3 + 4)/6, w2 = (((u·u)·(u−2))·3 + 4)/6, w0 = ((u·u)·u)/6, w3 = ((1−w0)−w1)−w2,
// taps f−1 … f+2 (all mirrored when one is outside), acc += (c[y_b][x_a]·wx_a)·wy_b with the x tap
// outer. SIMD over N consecutive output pixels of a row with gathered taps when all N footprints are
// inside the image; a scalar path of the same arithmetic for the others. Built without FMA
// contraction, so in float64 every pixel is rounded where scipy rounds it.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "fast/cpu/affine_transform_cpu.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "fast/cpu/affine_transform_cpu.hpp"

#ifndef AIACCEL_AFFINE_SCALAR_ONCE
#define AIACCEL_AFFINE_SCALAR_ONCE
namespace aiaccel::cpu::detail {

// Mirror an integer tap index into [0, len−1] without repeating the edge sample (period 2·len − 2).
inline std::int64_t mirror_tap(std::int64_t i, std::int64_t len) {
    if (len <= 1) return 0;
    const std::int64_t period = 2 * len - 2;
    i %= period;
    if (i < 0) i += period;
    return i < len ? i : period - i;
}

template <class T>
inline void weights3(T t, T* w) {
    const T y = t, z = T(1) - t;
    w[1] = (y * y * (y - T(2)) * T(3) + T(4)) / T(6);
    w[2] = (z * z * (z - T(2)) * T(3) + T(4)) / T(6);
    w[0] = z * z * z / T(6);
    w[3] = T(1);
    for (int i = 0; i < 3; ++i) w[3] -= w[i];
}

// One output pixel, scalar: any coordinate, mirrored taps.
template <class T>
double pixel3(const SplineCoefficients<T>& c, double X, double Y, double cval) {
    const auto lx = static_cast<std::int64_t>(c.cols), ly = static_cast<std::int64_t>(c.rows);
    if (!(X >= 0 && X <= static_cast<double>(lx - 1)) || !(Y >= 0 && Y <= static_cast<double>(ly - 1))) return cval;
    const double fx = std::floor(X), fy = std::floor(Y);
    T wx[4], wy[4];
    weights3(static_cast<T>(X - fx), wx);
    weights3(static_cast<T>(Y - fy), wy);
    std::int64_t ix[4], iy[4];
    const auto sx = static_cast<std::int64_t>(fx) - 1, sy = static_cast<std::int64_t>(fy) - 1;
    const bool ex = sx < 0 || sx + 3 >= lx, ey = sy < 0 || sy + 3 >= ly;
    for (int l = 0; l < 4; ++l) {
        ix[l] = ex ? mirror_tap(sx + l, lx) : sx + l;
        iy[l] = ey ? mirror_tap(sy + l, ly) : sy + l;
    }
    T acc = 0;
    for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b) acc += (c.data[iy[b] * lx + ix[a]] * wx[a]) * wy[b];
    return static_cast<double>(acc);
}

}  // namespace aiaccel::cpu::detail
#endif

HWY_BEFORE_NAMESPACE();
namespace aiaccel::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class T>
void RowT(const SplineCoefficients<T>& c, const AffineMap& m, std::size_t oy, std::size_t ox0, std::size_t count, double cval,
          double* HWY_RESTRICT out) {
    const hn::ScalableTag<double> d;  // coordinates
    const hn::Rebind<T, decltype(d)> dt;  // coefficients, weights, sums
    const hn::RebindToSigned<decltype(dt)> di;  // gather indices (lane size of T)
    const std::size_t N = hn::Lanes(d);
    const double doy = static_cast<double>(oy);
    const double cx = doy * m.m01, cy = doy * m.m11;
    const auto vm00 = hn::Set(d, m.m00), vm10 = hn::Set(d, m.m10), vsx = hn::Set(d, m.sx), vsy = hn::Set(d, m.sy);
    const auto vcx = hn::Set(d, cx), vcy = hn::Set(d, cy);
    const auto one = hn::Set(d, 1.0), xhi = hn::Set(d, static_cast<double>(c.cols) - 2), yhi = hn::Set(d, static_cast<double>(c.rows) - 2);
    const auto vcols = hn::Set(d, static_cast<double>(c.cols));
    const auto t1 = hn::Set(dt, T(1)), t2 = hn::Set(dt, T(2)), t3 = hn::Set(dt, T(3)), t4 = hn::Set(dt, T(4)), t6 = hn::Set(dt, T(6));
    auto to_t = [&](auto v) {
        if constexpr (std::is_same_v<T, double>)
            return v;
        else
            return hn::DemoteTo(dt, v);
    };
    using IndexT = hn::TFromD<decltype(di)>;
    const double cols_d = static_cast<double>(c.cols), size_d = static_cast<double>(c.cols) * static_cast<double>(c.rows);
    auto to_index = [&](auto v) {  // exact integers in double → index lanes of T's size
        if constexpr (std::is_same_v<T, double>)
            return hn::ConvertTo(di, v);
        else
            return hn::DemoteTo(di, v);
    };
    auto weights = [&](auto t, auto* w) {
        const auto y = t, z = hn::Sub(t1, t);
        w[1] = hn::Div(hn::Add(hn::Mul(hn::Mul(hn::Mul(y, y), hn::Sub(y, t2)), t3), t4), t6);
        w[2] = hn::Div(hn::Add(hn::Mul(hn::Mul(hn::Mul(z, z), hn::Sub(z, t2)), t3), t4), t6);
        w[0] = hn::Div(hn::Mul(hn::Mul(z, z), z), t6);
        w[3] = hn::Sub(hn::Sub(hn::Sub(t1, w[0]), w[1]), w[2]);
    };
    std::size_t i = 0;
    for (; i + N <= count; i += N) {
        const auto vox = hn::Iota(d, static_cast<double>(ox0 + i));
        const auto X = m.sum_ge_1_16 ? hn::Add(hn::Add(vsx, hn::Mul(vox, vm00)), vcx) : hn::Add(hn::Add(hn::Mul(vox, vm00), vcx), vsx);
        const auto Y = m.sum_ge_1_16 ? hn::Add(hn::Add(vsy, hn::Mul(vox, vm10)), vcy) : hn::Add(hn::Add(hn::Mul(vox, vm10), vcy), vsy);
        const auto interior = hn::And(hn::And(hn::Ge(X, one), hn::Lt(X, xhi)), hn::And(hn::Ge(Y, one), hn::Lt(Y, yhi)));
        if (!hn::AllTrue(d, interior)) {
            // Near or beyond an edge (or NaN coordinates): the scalar path, pixel by pixel.
            HWY_ALIGN double xs[hn::MaxLanes(d)], ys[hn::MaxLanes(d)];
            hn::Store(X, d, xs);
            hn::Store(Y, d, ys);
            for (std::size_t k = 0; k < N; ++k) out[i + k] = detail::pixel3(c, xs[k], ys[k], cval);
            continue;
        }
        const auto fx = hn::Floor(X), fy = hn::Floor(Y);
        decltype(hn::Zero(dt)) wx[4], wy[4];
        weights(to_t(hn::Sub(X, fx)), wx);
        weights(to_t(hn::Sub(Y, fy)), wy);
        decltype(hn::Zero(dt)) v[4][4];  // v[a][b]: tap column f−1+a, tap row f−1+b
        HWY_ALIGN double fxs[hn::MaxLanes(d)], fys[hn::MaxLanes(d)];
        hn::Store(fx, d, fxs);
        hn::Store(fy, d, fys);
        // X and Y are linear along the row, so the lanes' extremes are the end lanes.
        const double x_lo = std::min(fxs[0], fxs[N - 1]), x_hi = std::max(fxs[0], fxs[N - 1]);
        if (fys[0] == fys[N - 1] && x_hi - x_lo + 3 < static_cast<double>(2 * N) &&
            (fys[0] + 2) * cols_d + (x_lo - 1) + static_cast<double>(2 * N) <= size_d) {
            // All footprints in the same 4 rows and within 2N columns: two loads per row and lane
            // permutes instead of gathers (the same values).
            const T* p0 = c.data + static_cast<std::size_t>((fys[0] - 1) * cols_d + (x_lo - 1));
            const auto off = to_index(hn::Sub(fx, hn::Set(d, x_lo)));
            const auto lanes = hn::Set(di, static_cast<IndexT>(N)), low_bits = hn::Set(di, static_cast<IndexT>(N - 1));
            for (int b = 0; b < 4; ++b) {
                const T* row = p0 + static_cast<std::size_t>(b) * c.cols;
                const auto lo = hn::LoadU(dt, row), hi = hn::LoadU(dt, row + N);
                for (int a = 0; a < 4; ++a) {
                    const auto ia = hn::Add(off, hn::Set(di, static_cast<IndexT>(a)));
                    const auto ind = hn::IndicesFromVec(dt, hn::And(ia, low_bits));
                    v[a][b] = hn::IfThenElse(hn::RebindMask(dt, hn::Lt(ia, lanes)), hn::TableLookupLanes(lo, ind), hn::TableLookupLanes(hi, ind));
                }
            }
        } else {
            // First tap (f−1, f−1) as a flat index; exact in double (< 2⁵³).
            const auto idx = to_index(hn::Add(hn::Mul(hn::Sub(fy, one), vcols), hn::Sub(fx, one)));
            for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b)
                    v[a][b] = hn::GatherIndex(dt, c.data + static_cast<std::size_t>(b) * c.cols + static_cast<std::size_t>(a), idx);
        }
        auto acc = hn::Zero(dt);
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) acc = hn::Add(acc, hn::Mul(hn::Mul(v[a][b], wx[a]), wy[b]));
        if constexpr (std::is_same_v<T, double>)
            hn::StoreU(acc, d, out + i);
        else
            hn::StoreU(hn::PromoteTo(d, acc), d, out + i);
    }
    for (; i < count; ++i) {
        const double ox = static_cast<double>(ox0 + i);
        out[i] = detail::pixel3(c, m.x(ox, doy), m.y(ox, doy), cval);
    }
}

void RowF64(const SplineCoefficients<double>& c, const AffineMap& m, std::size_t oy, std::size_t ox0, std::size_t count, double cval, double* out) {
    RowT(c, m, oy, ox0, count, cval, out);
}
void RowF32(const SplineCoefficients<float>& c, const AffineMap& m, std::size_t oy, std::size_t ox0, std::size_t count, double cval, double* out) {
    RowT(c, m, oy, ox0, count, cval, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace aiaccel::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aiaccel::cpu {
HWY_EXPORT(RowF64);
HWY_EXPORT(RowF32);

void affine_order3_row_cpu(const SplineCoefficients<double>& c, const AffineMap& m, std::size_t oy, std::size_t ox0, std::size_t count, double cval,
                           double* out) {
    HWY_DYNAMIC_DISPATCH(RowF64)(c, m, oy, ox0, count, cval, out);
}
void affine_order3_row_cpu(const SplineCoefficients<float>& c, const AffineMap& m, std::size_t oy, std::size_t ox0, std::size_t count, double cval,
                           double* out) {
    HWY_DYNAMIC_DISPATCH(RowF32)(c, m, oy, ox0, count, cval, out);
}

}  // namespace aiaccel::cpu
#endif  // HWY_ONCE
