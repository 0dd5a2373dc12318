// The arithmetic of the CUDA registration kernels, shared by host and device (docs/architecture.md §6: CUTLASS
// style): compiled into register_cuda.cu's kernels by nvcc and into tests/test_cuda_host.cpp by g++,
// where a host loop over these functions is checked bit for bit against reference/'s port of scipy
// (ndimage affine_transform, mode 'constant', orders 0..5, prefilter with the mirror initialisation)
// and of sunpy's NaN wrapper and clip. Written again from scipy's definitions, not shared with
// reference/. No fused multiply-adds anywhere (nvcc -fmad=false; x86-64 baseline on the host).
#pragma once

#include <math.h>

#include <array>
#include <cstddef>
#include <limits>

#if defined(__CUDACC__)
#define AIACCEL_HD __host__ __device__
#else
#define AIACCEL_HD
#endif
#if defined(__CUDA_ARCH__)
#define AIACCEL_UNROLL _Pragma("unroll")
#else
#define AIACCEL_UNROLL
#endif

namespace aiaccel::cuda::regmath {

AIACCEL_HD inline bool is_nan(double x) { return x != x; }
AIACCEL_HD inline bool is_inf(double x) { return !is_nan(x) && is_nan(x - x); }
AIACCEL_HD inline double quiet_nan() {  // numpy's NaN (sign bit clear), as reference/ writes it
#if defined(__CUDA_ARCH__)
    return __longlong_as_double(0x7ff8000000000000ll);
#else
    return std::numeric_limits<double>::quiet_NaN();
#endif
}

// scipy's CASE_INTERP_OUT*: how a double is stored in the output dtype (PixelType order: u8, i16,
// i32, f32, f64): integers round half away from zero, saturate, truncate; float32 rounds to nearest.
AIACCEL_HD inline double store_as(double t, int dtype) {
    switch (dtype) {
        case 0: {
            if (is_nan(t)) return 0.0;
            double v = t > 0 ? t + 0.5 : 0;
            v = v > 255.0 ? 255.0 : v;
            return ::trunc(v < 0 ? 0 : v);
        }
        case 1:
        case 2: {
            if (is_nan(t)) return 0.0;
            const double lo = dtype == 1 ? -32768.0 : -2147483648.0, hi = dtype == 1 ? 32767.0 : 2147483647.0;
            double v = t > 0 ? t + 0.5 : t - 0.5;
            v = v > hi ? hi : v;
            v = v < lo ? lo : v;
            return ::trunc(v);
        }
        case 3: return static_cast<double>(static_cast<float>(t));
        default: return t;
    }
}

// ---- prefilter (ni_splines.c: gain, causal mirror init, causal, anti-causal init, anti-causal) -------
struct Poles {
    int count = 0;
    double z[2] = {0, 0}, z_n_1[2] = {0, 0};  // pole and pole^(len−1) (host std::pow, as the reference)
    double gain = 1.0;
};
// Host only: the poles of the order and the powers for lines of length len.
inline Poles poles_for(int order, std::size_t len) {
    Poles ps;
    switch (order) {
        case 2:
            ps.count = 1;
            ps.z[0] = -0.171572875253809902396622551580603843;
            break;
        case 3:
            ps.count = 1;
            ps.z[0] = -0.267949192431122706472553658494127633;
            break;
        case 4:
            ps.count = 2;
            ps.z[0] = -0.361341225900220177092212841325675255;
            ps.z[1] = -0.013725429297339121360331226939128204;
            break;
        case 5:
            ps.count = 2;
            ps.z[0] = -0.430575347099973791851434783493520110;
            ps.z[1] = -0.043096288203264653822712376822550182;
            break;
        default: break;
    }
    for (int k = 0; k < ps.count; ++k) {
        ps.gain *= (1.0 - ps.z[k]) * (1.0 - 1.0 / ps.z[k]);
        ps.z_n_1[k] = len > 0 ? ::pow(ps.z[k], static_cast<double>(len - 1)) : 1.0;
    }
    return ps;
}

// One line c[i·step], i < len, filtered in place; lines of length ≤ 1 are left alone. The direct form
// (ni_splines.c's loops); the kernel runs the same arithmetic in chunks (below) and
// tests/test_cuda_host.cpp checks both against reference/ and each other bit for bit.
AIACCEL_HD inline void prefilter_line(double* c, std::size_t len, std::size_t step, const Poles& ps) {
    if (len <= 1) return;
#define AIACCEL_C(i) c[(i)*step]
    for (std::size_t i = 0; i < len; ++i) AIACCEL_C(i) *= ps.gain;
    for (int k = 0; k < ps.count; ++k) {
        const double z = ps.z[k], z_n_1 = ps.z_n_1[k];
        double z_i = z;
        AIACCEL_C(0) = AIACCEL_C(0) + z_n_1 * AIACCEL_C(len - 1);
        for (std::size_t i = 1; i + 1 < len; ++i) {
            AIACCEL_C(0) += z_i * (AIACCEL_C(i) + z_n_1 * AIACCEL_C(len - 1 - i));
            z_i *= z;
        }
        AIACCEL_C(0) /= 1 - z_n_1 * z_n_1;
        for (std::size_t i = 1; i < len; ++i) AIACCEL_C(i) += z * AIACCEL_C(i - 1);
        AIACCEL_C(len - 1) = (z * AIACCEL_C(len - 2) + AIACCEL_C(len - 1)) * z / (z * z - 1);
        for (std::size_t i = len - 1; i-- > 0;) AIACCEL_C(i) = z * (AIACCEL_C(i + 1) - AIACCEL_C(i));
    }
#undef AIACCEL_C
}

// ---- the prefilter in chunks (register_cuda.cu's kernel; prefilter_line_chunked is its host mirror) --
// A line is walked in chunks of kChunk samples [e0, e0 + n), each chunk in a thread's registers, with
// three passes per pole: (A) the mirror initialisation sum, read only, over the chunk f[k] = c[e0 + k]
// and its mirror m[k] = c[len − 1 − (e0 + k)]; (B) causal, chunks forward, c[0] from A and the
// anti-causal initialisation at the last sample; (C) anti-causal, chunks backward. The first pole's
// passes A and B read c·gain: the gain folded into the first read (the same product prefilter_line
// stores). Every sample sees prefilter_line's operations in its order, so the results are equal bit
// for bit; only where the operands come from (registers, not memory) differs.
inline constexpr int kChunk = 32;

// Pass A on one chunk: acc and z_i carry from chunk to chunk (acc is set at sample 0).
template <bool Gain, int W>
AIACCEL_HD inline void init_chunk(const double (&f)[W], const double (&m)[W], long long e0, int n, long long len, double z, double z_n_1, double gain,
                                  double& acc, double& z_i) {
    AIACCEL_UNROLL
    for (int k = 0; k < W; ++k) {
        if (k >= n) break;
        const long long i = e0 + k;
        const double ci = Gain ? f[k] * gain : f[k], cj = Gain ? m[k] * gain : m[k];
        if (i == 0) {
            acc = ci + z_n_1 * cj;
            z_i = z;
        } else if (i + 1 < len) {
            acc += z_i * (ci + z_n_1 * cj);
            z_i *= z;
        }
    }
}
// c[0] after pass A.
AIACCEL_HD inline double init_end(double acc, double z_n_1) { return acc / (1 - z_n_1 * z_n_1); }

// Pass B on one chunk (in place): c[0] = c0, c[i] += z·c[i−1], and at i = len − 1 the anti-causal
// initialisation from c[len−2] and c[len−1]; prev carries c[i−1] from chunk to chunk.
template <bool Gain, int W>
AIACCEL_HD inline void causal_chunk(double (&v)[W], long long e0, int n, long long len, double z, double gain, double c0, double& prev) {
    AIACCEL_UNROLL
    for (int k = 0; k < W; ++k) {
        if (k >= n) break;
        const long long i = e0 + k;
        double x = Gain ? v[k] * gain : v[k];
        x = i == 0 ? c0 : x + z * prev;
        v[k] = i + 1 == len ? (z * prev + x) * z / (z * z - 1) : x;
        prev = x;
    }
}

// Pass C on one chunk (in place, backward): c[i] = z·(c[i+1] − c[i]); next carries c[i+1].
template <int W>
AIACCEL_HD inline void anticausal_chunk(double (&v)[W], long long e0, int n, long long len, double z, double& next) {
    AIACCEL_UNROLL
    for (int k = W - 1; k >= 0; --k) {
        if (k >= n) continue;
        const long long i = e0 + k;
        if (i + 1 == len)
            next = v[k];
        else
            next = v[k] = z * (next - v[k]);
    }
}

// Host only: prefilter_line through the chunk passes, chunk by chunk as one kernel thread walks its line.
inline void prefilter_line_chunked(double* c, std::size_t len, std::size_t step, const Poles& ps) {
    if (len <= 1) return;
    constexpr int W = kChunk;
    const long long L = static_cast<long long>(len);
    auto at = [&](long long i) -> double& { return c[static_cast<std::size_t>(i) * step]; };
    for (int p = 0; p < ps.count; ++p) {
        const double z = ps.z[p], z_n_1 = ps.z_n_1[p];
        double acc = 0, z_i = 0, prev = 0, next = 0;
        for (long long e0 = 0; e0 < L; e0 += W) {
            const int n = static_cast<int>(L - e0 < W ? L - e0 : W);
            double f[W]{}, m[W]{};
            for (int k = 0; k < n; ++k) {
                f[k] = at(e0 + k);
                m[k] = at(L - 1 - (e0 + k));
            }
            if (p == 0)
                init_chunk<true, W>(f, m, e0, n, L, z, z_n_1, ps.gain, acc, z_i);
            else
                init_chunk<false, W>(f, m, e0, n, L, z, z_n_1, ps.gain, acc, z_i);
        }
        const double c0 = init_end(acc, z_n_1);
        for (long long e0 = 0; e0 < L; e0 += W) {
            const int n = static_cast<int>(L - e0 < W ? L - e0 : W);
            double v[W]{};
            for (int k = 0; k < n; ++k) v[k] = at(e0 + k);
            if (p == 0)
                causal_chunk<true, W>(v, e0, n, L, z, ps.gain, c0, prev);
            else
                causal_chunk<false, W>(v, e0, n, L, z, ps.gain, c0, prev);
            for (int k = 0; k < n; ++k) at(e0 + k) = v[k];
        }
        for (long long e0 = (L - 1) / W * W; e0 >= 0; e0 -= W) {
            const int n = static_cast<int>(L - e0 < W ? L - e0 : W);
            double v[W]{};
            for (int k = 0; k < n; ++k) v[k] = at(e0 + k);
            anticausal_chunk<W>(v, e0, n, L, z, next);
            for (int k = 0; k < n; ++k) at(e0 + k) = v[k];
        }
    }
    if (ps.count == 0)  // no pole: the gain (1.0) alone, as prefilter_line
        for (std::size_t i = 0; i < len; ++i) c[i * step] *= ps.gain;
}

// ---- interpolation (NI_GeometricTransform, get_spline_interpolation_weights) ---------------------------
struct Geometry {
    double m[2][2], off[2];
    long long len0, len1;  // the array scipy sees (the stored input transposed when `transposed`)
    long long in_cols;  // row length of the stored input
    long long out0, out1;  // the output shape scipy writes
    bool transposed, ge_1_16;
};

// map_coordinate's mirror for an integer tap (period 2·len − 2).
AIACCEL_HD inline long long mirror_index(long long in, long long len) {
    if (in < 0) {
        if (len <= 1) return 0;
        const long long sz2 = 2 * len - 2;
        in = sz2 * (-in / sz2) + in;
        return in <= 1 - len ? in + sz2 : -in;
    }
    if (in > len - 1) {
        if (len <= 1) return 0;
        const long long sz2 = 2 * len - 2;
        in -= sz2 * (in / sz2);
        if (in >= len) in = sz2 - in;
    }
    return in;
}

AIACCEL_HD inline void spline_weights(double x, int order, double* w) {
    x -= ::floor((order & 1) ? x : x + 0.5);
    double y = x, z = 1.0 - x, t;
    switch (order) {
        case 1: w[0] = 1.0 - x; break;
        case 2:
            w[1] = 0.75 - x * x;
            y = 0.5 - x;
            w[0] = 0.5 * y * y;
            break;
        case 3:
            w[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
            w[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
            w[0] = z * z * z / 6.0;
            break;
        case 4:
            t = x * x;
            w[2] = t * (t * 0.25 - 0.625) + 115.0 / 192.0;
            y = 1.0 + x;
            w[1] = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
            w[3] = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
            y = 0.5 - x;
            t = y * y;
            w[0] = t * t / 24.0;
            break;
        case 5:
            t = y * y;
            w[2] = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55;
            t = z * z;
            w[3] = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55;
            y += 1.0;
            w[1] = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
            z += 1.0;
            w[4] = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
            y = 1.0 - x;
            t = y * y;
            w[0] = y * t * t / 120.0;
            break;
        default: break;
    }
    w[order] = 1.0;
    for (int i = 0; i < order; ++i) w[order] -= w[i];
}

// Taps of one axis; false when the coordinate is outside [0, len−1] or NaN (the output is cval).
AIACCEL_HD inline bool axis_taps(double cc, long long len, int order, long long* idx, double* w) {
    if (cc < 0 || cc > static_cast<double>(len - 1)) return false;
    if (!(cc > -1.0)) return false;
    const long long start = (order & 1) ? static_cast<long long>(::floor(cc)) - order / 2 : static_cast<long long>(::floor(cc + 0.5)) - order / 2;
    const bool edge = start < 0 || start + order >= len;
    for (int l = 0; l <= order; ++l) idx[l] = edge ? mirror_index(start + l, len) : start + l;
    if (order != 0) spline_weights(cc, order, w);
    return true;
}

// The input coordinate (c0, c1) of output (o0, o1) in the scipy version's summation order.
AIACCEL_HD inline void coordinates(const Geometry& g, long long o0, long long o1, double& c0, double& c1) {
    const double d0 = static_cast<double>(o0), d1 = static_cast<double>(o1);
    if (g.ge_1_16) {
        c0 = g.off[0];
        c0 += d0 * g.m[0][0];
        c0 += d1 * g.m[0][1];
        c1 = g.off[1];
        c1 += d0 * g.m[1][0];
        c1 += d1 * g.m[1][1];
    } else {
        c0 = 0.0;
        c0 += d0 * g.m[0][0];
        c0 += d1 * g.m[0][1];
        c0 += g.off[0];
        c1 = 0.0;
        c1 += d0 * g.m[1][0];
        c1 += d1 * g.m[1][1];
        c1 += g.off[1];
    }
}

AIACCEL_HD inline double sample(const double* a, const Geometry& g, long long p, long long q) {
    return g.transposed ? a[q * g.in_cols + p] : a[p * g.in_cols + q];
}

// Σ_a Σ_b (coef · w0[a]) · w1[b] in C order; inside = false when a coordinate is outside the input.
template <int Order>
AIACCEL_HD inline double interpolate(const double* a, const Geometry& g, double c0, double c1, bool& inside) {
    long long i0[Order + 1], i1[Order + 1];
    double w0[Order + 1 > 1 ? Order + 1 : 2], w1[Order + 1 > 1 ? Order + 1 : 2];
    inside = axis_taps(c0, g.len0, Order, i0, w0) && axis_taps(c1, g.len1, Order, i1, w1);
    if (!inside) return 0.0;
    double acc = 0.0;
    AIACCEL_UNROLL
    for (int a_ = 0; a_ <= Order; ++a_) AIACCEL_UNROLL
    for (int b = 0; b <= Order; ++b) {
        double v = sample(a, g, i0[a_], i1[b]);
        if (Order > 0) {
            v *= w0[a_];
            v *= w1[b];
        }
        acc += v;
    }
    return acc;
}

// One output pixel: the stored interpolation (cval outside), then NaN where the order-min(Order, 1)
// interpolation of the NaN counts (cval 0) is positive, when counts are given.
template <int Order>
AIACCEL_HD inline double output_pixel(const double* coef, const double* counts, const Geometry& g, long long o0, long long o1, double cval_stored,
                                      int dtype) {
    double c0, c1;
    coordinates(g, o0, o1, c0, c1);
    bool inside = false;
    const double acc = interpolate<Order>(coef, g, c0, c1, inside);
    double v = inside ? store_as(acc, dtype) : cval_stored;
    if (counts) {
        bool in_mask = false;
        const double k = interpolate<(Order < 1 ? Order : 1)>(counts, g, c0, c1, in_mask);
        if (in_mask && k > 0) v = quiet_nan();
    }
    return v;
}

// Host only: the geometry of a job on a rows×cols stored input (0 output sizes: the input's, in scipy's
// orientation).
template <class AffineMapT>
inline Geometry make_geometry(const AffineMapT& map, std::size_t rows, std::size_t cols) {
    Geometry g{};
    for (int i = 0; i < 2; ++i) {
        g.off[i] = map.offset[i];
        for (int j = 0; j < 2; ++j) g.m[i][j] = map.matrix[i][j];
    }
    g.len0 = static_cast<long long>(map.transposed ? cols : rows);
    g.len1 = static_cast<long long>(map.transposed ? rows : cols);
    g.in_cols = static_cast<long long>(cols);
    g.out0 = map.out_rows ? static_cast<long long>(map.out_rows) : g.len0;
    g.out1 = map.out_cols ? static_cast<long long>(map.out_cols) : g.len1;
    g.transposed = map.transposed;
    g.ge_1_16 = map.scipy_ge_1_16;
    return g;
}

// Host only: scipy's spline_filter filters axis 0 of the array it sees, then axis 1. Pass k's lines in
// the stored input: `lines` lines of `len` samples, starts line_step apart, samples elem_step apart.
struct LinePass {
    std::size_t lines, len, line_step, elem_step;
};
inline std::array<LinePass, 2> prefilter_passes(std::size_t rows, std::size_t cols, bool transposed) {
    std::array<LinePass, 2> p{};
    for (int axis = 0; axis < 2; ++axis) {
        const bool along_stored_rows = (axis == 1) != transposed;
        p[std::size_t(axis)] = along_stored_rows ? LinePass{rows, cols, cols, 1} : LinePass{cols, rows, 1, cols};
    }
    return p;
}

// sunpy's NaN-mask window k for spline order 0..5 (k×k dilation before the order-1 rotation).
inline constexpr int kNanMaskSize[6] = {1, 1, 5, 5, 7, 7};

// ---- sunpy's NaN wrapper and clip ----------------------------------------------------------------------
// NaN count in the k×k window (half = k/2) centred on (r, c), clipped to the image (convolve2d 'same').
AIACCEL_HD inline double nan_count(const double* a, long long rows, long long cols, int half, long long r, long long c) {
    double k = 0;
    for (long long i = (r - half < 0 ? 0 : r - half); i <= (r + half < rows - 1 ? r + half : rows - 1); ++i)
        for (long long j = (c - half < 0 ? 0 : c - half); j <= (c + half < cols - 1 ? c + half : cols - 1); ++j)
            if (is_nan(a[i * cols + j])) k += 1.0;
    return k;
}
// np.nan_to_num after NaN → substitute (±inf → ±big, not for integer dtypes).
AIACCEL_HD inline double fill_value(double v, double substitute, double big, bool integer_dtype) {
    if (is_nan(v)) return substitute;
    if (!integer_dtype && is_inf(v)) return v > 0 ? big : -big;
    return v;
}

// nanmin / nanmax (exact in any order of merging).
struct MinMax {
    double mn, mx;
    unsigned long long count;  // non-NaN values seen
};
AIACCEL_HD inline MinMax merge(MinMax a, MinMax b) {
    if (!b.count) return a;
    if (!a.count) return b;
    return {b.mn < a.mn ? b.mn : a.mn, a.mx < b.mx ? b.mx : a.mx, a.count + b.count};
}

// reference::rotate's clip bounds from the input's and the output's nanmin/nanmax and `missing`;
// false when there is nothing to clip (clip off, or the output all NaN).
AIACCEL_HD inline bool clip_bounds(bool clip, double missing, const MinMax& in, const MinMax& out, double& lower, double& upper) {
    const double out_min = out.count ? out.mn : quiet_nan(), out_max = out.count ? out.mx : quiet_nan();
    const double in_min = in.count ? in.mn : quiet_nan(), in_max = in.count ? in.mx : quiet_nan();
    if (!clip || is_nan(out_min)) return false;
    if (is_nan(missing)) {
        lower = in_min;
        upper = in_max;
    } else {
        const double lo = missing < out_min ? out_min : missing;  // std::max(missing, out_min)
        const double hi = out_max < missing ? out_max : missing;  // std::min(missing, out_max)
        lower = is_nan(in_min) ? lo : (in_min < lo ? in_min : lo);
        upper = is_nan(in_max) ? hi : (hi < in_max ? in_max : hi);
    }
    return true;
}
// The last pass per pixel: clip (NaN kept) and store, then the exposure scale.
AIACCEL_HD inline double finish_value(double v, bool do_clip, double lower, double upper, int dtype, double scale) {
    if (do_clip && !is_nan(v)) {
        const double m = v < lower ? lower : v;  // std::max(v, lower)
        v = store_as(upper < m ? upper : m, dtype);  // std::min(·, upper)
    }
    if (scale != 1.0) v = v * scale;
    return v;
}

}  // namespace aiaccel::cuda::regmath
