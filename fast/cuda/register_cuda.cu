// CUDA registration kernels — the arithmetic of scipy.ndimage (1.15.3 / 1.16+: ni_splines.c's
// prefilter with the mirror initialisation, get_spline_interpolation_weights, ni_interpolation.c's
// NI_GeometricTransform for mode 'constant') and of sunpy 7.0.5's NaN wrapper and clip, as
// reference/spline_reference.cpp and reference/register_reference.cpp port them; written again here
// for the device (the reference shares no numeric code with fast backends). Passes, one stream:
//   input stats (nanmin/nanmax, for the clip) → NaN counts → NaN/inf fill → prefilter (one thread per
//   line, causal then anti-causal, poles' z^(n−1) and the gain from the host's std::pow) →
//   interpolation (one thread per output pixel, 64-bit coordinates, 4×4 taps for order 3, the NaN
//   mask's order-1 interpolation fused in) → output stats → clip, store and exposure scale (fused).
// Built with -fmad=false: each product and sum rounds where scipy's does.
#include "fast/cuda/register_cuda.hpp"

#include <cuda_runtime.h>

#include <cmath>
#include <mutex>

#include "core/error.hpp"
#include "fast/cuda/cuda_host.hpp"
#include "fast/cuda/cuda_util.cuh"

namespace aiaccel::cuda {
namespace {

constexpr unsigned kThreads = 256;
constexpr unsigned kStatBlocks = 512;

// scipy's CASE_INTERP_OUT*: how a double is stored in the output dtype (PixelType order u8, i16, i32, f32, f64).
__device__ double store_as(double t, int dtype) {
    switch (dtype) {
        case 0: {
            if (isnan(t)) return 0.0;
            double v = t > 0 ? t + 0.5 : 0;
            v = v > 255.0 ? 255.0 : v;
            return trunc(v < 0 ? 0 : v);
        }
        case 1:
        case 2: {
            if (isnan(t)) return 0.0;
            const double lo = dtype == 1 ? -32768.0 : -2147483648.0, hi = dtype == 1 ? 32767.0 : 2147483647.0;
            double v = t > 0 ? t + 0.5 : t - 0.5;
            v = v > hi ? hi : v;
            v = v < lo ? lo : v;
            return trunc(v);
        }
        case 3: return static_cast<double>(static_cast<float>(t));
        default: return t;
    }
}
double store_as_host(double t, PixelType dtype) {
    switch (dtype) {
        case PixelType::f64: return t;
        case PixelType::f32: return static_cast<double>(static_cast<float>(t));
        default: break;
    }
    if (std::isnan(t)) return 0.0;
    if (dtype == PixelType::u8) {
        double v = t > 0 ? t + 0.5 : 0;
        v = v > 255.0 ? 255.0 : v;
        return std::trunc(v < 0 ? 0 : v);
    }
    const double lo = dtype == PixelType::i16 ? -32768.0 : -2147483648.0, hi = dtype == PixelType::i16 ? 32767.0 : 2147483647.0;
    double v = t > 0 ? t + 0.5 : t - 0.5;
    v = v > hi ? hi : v;
    v = v < lo ? lo : v;
    return std::trunc(v);
}

// ---- statistics (nanmin / nanmax; exact in any order) ------------------------------------------
struct MinMax {
    double mn, mx;
    unsigned long long count;  // non-NaN values seen
};
__device__ MinMax merge(MinMax a, MinMax b) {
    if (!b.count) return a;
    if (!a.count) return b;
    return {b.mn < a.mn ? b.mn : a.mn, a.mx < b.mx ? b.mx : a.mx, a.count + b.count};
}
__global__ void minmax_partial_kernel(const double* __restrict__ a, std::size_t n, MinMax* __restrict__ partial) {
    __shared__ MinMax sh[kThreads];
    MinMax m{0, 0, 0};
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < n; p += std::size_t(gridDim.x) * blockDim.x) {
        const double v = a[p];
        if (!isnan(v)) m = merge(m, MinMax{v, v, 1});
    }
    sh[threadIdx.x] = m;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) sh[threadIdx.x] = merge(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}
__global__ void minmax_final_kernel(const MinMax* __restrict__ partial, unsigned parts, MinMax* __restrict__ out) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    MinMax m{0, 0, 0};
    for (unsigned i = 0; i < parts; ++i) m = merge(m, partial[i]);
    *out = m;
}

// ---- NaN handling (sunpy add_rotation_function) ----------------------------------------------------
// counts[r][c] = NaN count in the k×k window centred on (r, c), clipped to the image (convolve2d 'same').
__global__ void nan_counts_kernel(const double* __restrict__ a, long long rows, long long cols, int half, double* __restrict__ counts) {
    const long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x, r = (long long)blockIdx.y * blockDim.y + threadIdx.y;
    if (r >= rows || c >= cols) return;
    double k = 0;
    for (long long i = (r - half < 0 ? 0 : r - half); i <= (r + half < rows - 1 ? r + half : rows - 1); ++i)
        for (long long j = (c - half < 0 ? 0 : c - half); j <= (c + half < cols - 1 ? c + half : cols - 1); ++j)
            if (isnan(a[i * cols + j])) k += 1.0;
    counts[r * cols + c] = k;
}
__global__ void fill_kernel(double* __restrict__ a, std::size_t n, double substitute, double big, bool integer_dtype) {
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < n; p += std::size_t(gridDim.x) * blockDim.x) {
        const double v = a[p];
        if (isnan(v)) a[p] = substitute;
        else if (isinf(v) && !integer_dtype) a[p] = v > 0 ? big : -big;
    }
}

// ---- prefilter ----------------------------------------------------------------------------------------
struct Poles {
    int count;
    double z[2], z_n_1[2];  // pole and pole^(len−1) (host std::pow, as the reference)
    double gain;
};
__global__ void prefilter_kernel(double* __restrict__ c, std::size_t lines, std::size_t len, std::size_t line_step,
                                 std::size_t elem_step, Poles ps) {
    const std::size_t line = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (line >= lines || len <= 1) return;
    double* p = c + line * line_step;
#define AIACCEL_C(i) p[(i) * elem_step]
    for (std::size_t i = 0; i < len; ++i) AIACCEL_C(i) *= ps.gain;
    for (int k = 0; k < ps.count; ++k) {
        const double z = ps.z[k], z_n_1 = ps.z_n_1[k];
        // causal initialisation (mirror), causal pass, anti-causal initialisation, anti-causal pass
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

Poles poles_for(int order, std::size_t len) {
    Poles ps{};
    switch (order) {
        case 2: ps.count = 1; ps.z[0] = -0.171572875253809902396622551580603843; break;
        case 3: ps.count = 1; ps.z[0] = -0.267949192431122706472553658494127633; break;
        case 4: ps.count = 2; ps.z[0] = -0.361341225900220177092212841325675255; ps.z[1] = -0.013725429297339121360331226939128204; break;
        case 5: ps.count = 2; ps.z[0] = -0.430575347099973791851434783493520110; ps.z[1] = -0.043096288203264653822712376822550182; break;
        default: ps.count = 0;
    }
    ps.gain = 1.0;
    for (int k = 0; k < ps.count; ++k) {
        ps.gain *= (1.0 - ps.z[k]) * (1.0 - 1.0 / ps.z[k]);
        ps.z_n_1[k] = len > 0 ? std::pow(ps.z[k], static_cast<double>(len - 1)) : 1.0;
    }
    return ps;
}

// ---- interpolation --------------------------------------------------------------------------------
struct Geometry {
    double m[2][2], off[2];
    long long len0, len1;      // the array scipy sees (input transposed when `transposed`)
    long long in_cols;         // row length of the stored input
    long long out0, out1;      // output shape scipy writes
    bool transposed, ge_1_16;
};

__device__ long long mirror_index(long long in, long long len) {
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

__device__ void spline_weights(double x, int order, double* w) {
    x -= floor((order & 1) ? x : x + 0.5);
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
__device__ bool axis_taps(double cc, long long len, int order, long long* idx, double* w) {
    if (cc < 0 || cc > static_cast<double>(len - 1)) return false;
    if (!(cc > -1.0)) return false;
    const long long start = (order & 1) ? static_cast<long long>(floor(cc)) - order / 2 : static_cast<long long>(floor(cc + 0.5)) - order / 2;
    const bool edge = start < 0 || start + order >= len;
    for (int l = 0; l <= order; ++l) idx[l] = edge ? mirror_index(start + l, len) : start + l;
    if (order != 0) spline_weights(cc, order, w);
    return true;
}

__device__ double sample(const double* __restrict__ a, const Geometry& g, long long p, long long q) {
    return g.transposed ? a[q * g.in_cols + p] : a[p * g.in_cols + q];
}

// The interpolated value at (c0, c1); inside = false when a coordinate is outside the input. Order is
// a template parameter so the tap and weight arrays stay in registers.
template <int Order>
__device__ double interpolate(const double* __restrict__ a, const Geometry& g, double c0, double c1, bool& inside) {
    long long i0[Order + 1], i1[Order + 1];
    double w0[Order + 1 > 1 ? Order + 1 : 2], w1[Order + 1 > 1 ? Order + 1 : 2];
    inside = axis_taps(c0, g.len0, Order, i0, w0) && axis_taps(c1, g.len1, Order, i1, w1);
    if (!inside) return 0.0;
    double acc = 0.0;
#pragma unroll
    for (int a_ = 0; a_ <= Order; ++a_)
#pragma unroll
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

// One output pixel per thread; x runs along the returned image's columns (coalesced stores).
template <int Order>
__global__ void affine_kernel(const double* __restrict__ coef, const double* __restrict__ counts, Geometry g, double cval_stored,
                              int dtype, double* __restrict__ out) {
    const long long fc = (long long)blockIdx.x * blockDim.x + threadIdx.x, fr = (long long)blockIdx.y * blockDim.y + threadIdx.y;
    const long long frows = g.transposed ? g.out1 : g.out0, fcols = g.transposed ? g.out0 : g.out1;
    if (fr >= frows || fc >= fcols) return;
    const long long o0 = g.transposed ? fc : fr, o1 = g.transposed ? fr : fc;
    const double d0 = static_cast<double>(o0), d1 = static_cast<double>(o1);
    double c0, c1;
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
    bool inside = false;
    const double acc = interpolate<Order>(coef, g, c0, c1, inside);
    double v = inside ? store_as(acc, dtype) : cval_stored;
    if (counts) {  // NaN mask: order-min(order, 1) interpolation of the counts, cval 0, float64
        bool in_mask = false;
        const double k = interpolate<(Order < 1 ? Order : 1)>(counts, g, c0, c1, in_mask);
        if (in_mask && k > 0) v = __longlong_as_double(0x7ff8000000000000ll);
    }
    out[fr * fcols + fc] = v;
}

template <int Order>
void launch_affine(const Launch2d& l, cudaStream_t s, const double* coef, const double* counts, const Geometry& g, double cval, int dtype,
                   double* out) {
    affine_kernel<Order><<<dim3(l.gx, l.gy), dim3(l.bx, l.by), 0, s>>>(coef, counts, g, cval, dtype, out);
}

// sunpy's clip (reference::rotate's rule) and the exposure scale, in one pass.
__global__ void finish_kernel(double* __restrict__ a, std::size_t n, const MinMax* __restrict__ in_stats,
                              const MinMax* __restrict__ out_stats, bool clip, double missing, int dtype, double scale) {
    const double nan = __longlong_as_double(0x7ff8000000000000ll);
    const MinMax is = *in_stats, os = *out_stats;
    const double out_min = os.count ? os.mn : nan, out_max = os.count ? os.mx : nan;
    const double in_min = is.count ? is.mn : nan, in_max = is.count ? is.mx : nan;
    const bool do_clip = clip && !isnan(out_min);
    double lower = 0, upper = 0;
    if (do_clip) {
        if (isnan(missing)) {
            lower = in_min;
            upper = in_max;
        } else {
            const double lo = missing < out_min ? out_min : missing;  // std::max(missing, out_min)
            const double hi = out_max < missing ? out_max : missing;  // std::min(missing, out_max)
            lower = isnan(in_min) ? lo : (in_min < lo ? in_min : lo);
            upper = isnan(in_max) ? hi : (hi < in_max ? in_max : hi);
        }
    }
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < n; p += std::size_t(gridDim.x) * blockDim.x) {
        double v = a[p];
        if (do_clip && !isnan(v)) {
            const double m = v < lower ? lower : v;  // std::max(v, lower)
            v = store_as(upper < m ? upper : m, dtype);  // std::min(·, upper)
        }
        if (scale != 1.0) v = v * scale;
        a[p] = v;
    }
}

std::mutex& register_mutex() {
    static std::mutex mu;
    return mu;
}

}  // namespace

Image<double> affine_transform_cuda(const Image<double>& in, const RegisterJob& job) {
    const int order = job.order;
    if (order < 0 || order > 5) throw Error(ErrorKind::bad_value, "cuda register: spline order " + std::to_string(order) + " is not in 0..5");
    if (in.empty()) throw Error(ErrorKind::bad_value, "cuda register: empty input array");
    const AffineMap& map = job.map;
    const std::size_t rows = in.rows(), cols = in.cols(), n_in = in.size();
    const std::size_t len0 = map.transposed ? cols : rows, len1 = map.transposed ? rows : cols;
    const std::size_t out0 = map.out_rows ? map.out_rows : len0, out1 = map.out_cols ? map.out_cols : len1;
    const std::size_t frows = map.transposed ? out1 : out0, fcols = map.transposed ? out0 : out1, n_out = out0 * out1;

    std::lock_guard lock(register_mutex());
    {
        const DeviceMemory m = device_memory();
        require_fits(register_budget(rows, cols, frows, fcols, job.nan.enabled), m.free, m.name);
    }
    cudaStream_t s{};
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    struct StreamGuard { cudaStream_t s; ~StreamGuard() { cudaStreamSynchronize(s); cudaStreamDestroy(s); } } guard{s};

    DeviceBuffer<double> coef(n_in), out(n_out), counts(job.nan.enabled ? n_in : 0);
    DeviceBuffer<MinMax> partial(kStatBlocks), stats(2);
    StageEvents ev;
    ev.mark(0, s);
    check(cudaMemcpyAsync(coef.get(), in.data(), n_in * sizeof(double), cudaMemcpyHostToDevice, s), "upload of the image");
    ev.mark(1, s);
    const bool finish = job.clip.enabled || job.exposure_scale != 1.0;
    if (finish) {  // the input's nanmin/nanmax before any fill
        minmax_partial_kernel<<<kStatBlocks, kThreads, 0, s>>>(coef.get(), n_in, partial.get());
        minmax_final_kernel<<<1, 1, 0, s>>>(partial.get(), kStatBlocks, stats.get());
        check_launch("input statistics");
    }
    const Launch2d li = launch_2d(rows, cols);
    if (job.nan.enabled) {
        static constexpr int sizes[6] = {1, 1, 5, 5, 7, 7};
        nan_counts_kernel<<<dim3(li.gx, li.gy), dim3(li.bx, li.by), 0, s>>>(coef.get(), (long long)rows, (long long)cols, sizes[order] / 2,
                                                                         counts.get());
        fill_kernel<<<launch_1d(n_in, kThreads).blocks, kThreads, 0, s>>>(coef.get(), n_in, job.nan.substitute, job.nan.big,
                                                                        job.nan.integer_dtype);
        check_launch("NaN counts and fill");
    }
    if (job.prefilter && order > 1) {
        // scipy's spline_filter: axis 0 of the array it sees, then axis 1.
        for (int axis = 0; axis < 2; ++axis) {
            const bool along_stored_rows = (axis == 1) != map.transposed;  // lines are rows of the stored input
            const std::size_t lines = along_stored_rows ? rows : cols, len = along_stored_rows ? cols : rows;
            const std::size_t line_step = along_stored_rows ? cols : 1, elem_step = along_stored_rows ? 1 : cols;
            prefilter_kernel<<<launch_1d(lines, 64).blocks, 64, 0, s>>>(coef.get(), lines, len, line_step, elem_step, poles_for(order, len));
            check_launch("prefilter_kernel");
        }
    }
    Geometry g{};
    for (int i = 0; i < 2; ++i) {
        g.off[i] = map.offset[i];
        for (int j = 0; j < 2; ++j) g.m[i][j] = map.matrix[i][j];
    }
    g.len0 = (long long)len0;
    g.len1 = (long long)len1;
    g.in_cols = (long long)cols;
    g.out0 = (long long)out0;
    g.out1 = (long long)out1;
    g.transposed = map.transposed;
    g.ge_1_16 = map.scipy_ge_1_16;
    const Launch2d lo = launch_2d(frows, fcols);
    const double* cnt = job.nan.enabled ? counts.get() : nullptr;
    const double cval = store_as_host(map.cval, map.output);
    switch (order) {
        case 0: launch_affine<0>(lo, s, coef.get(), cnt, g, cval, int(map.output), out.get()); break;
        case 1: launch_affine<1>(lo, s, coef.get(), cnt, g, cval, int(map.output), out.get()); break;
        case 2: launch_affine<2>(lo, s, coef.get(), cnt, g, cval, int(map.output), out.get()); break;
        case 3: launch_affine<3>(lo, s, coef.get(), cnt, g, cval, int(map.output), out.get()); break;
        case 4: launch_affine<4>(lo, s, coef.get(), cnt, g, cval, int(map.output), out.get()); break;
        default: launch_affine<5>(lo, s, coef.get(), cnt, g, cval, int(map.output), out.get()); break;
    }
    check_launch("affine_kernel");
    if (finish) {
        minmax_partial_kernel<<<kStatBlocks, kThreads, 0, s>>>(out.get(), n_out, partial.get());
        minmax_final_kernel<<<1, 1, 0, s>>>(partial.get(), kStatBlocks, stats.get() + 1);
        finish_kernel<<<launch_1d(n_out, kThreads).blocks, kThreads, 0, s>>>(out.get(), n_out, stats.get(), stats.get() + 1, job.clip.enabled,
                                                                             job.clip.missing, int(map.output), job.exposure_scale);
        check_launch("clip and exposure");
    }
    ev.mark(2, s);
    Image<double> result(frows, fcols);
    check(cudaMemcpyAsync(result.data(), out.get(), n_out * sizeof(double), cudaMemcpyDeviceToHost, s), "download of the result");
    ev.mark(3, s);
    check(cudaStreamSynchronize(s), "register on the device");
    record_timing("register", ev.times());
    return result;
}

}  // namespace aiaccel::cuda
