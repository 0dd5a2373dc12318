// CUDA registration kernels — the arithmetic of scipy.ndimage (1.15.3 / 1.16+: ni_splines.c's
// prefilter with the mirror initialisation, get_spline_interpolation_weights, ni_interpolation.c's
// NI_GeometricTransform for mode 'constant') and of sunpy 7.0.5's NaN wrapper and clip, as
// reference/spline_reference.cpp and reference/register_reference.cpp port them. The per-pixel and
// per-line arithmetic is register_math.hpp (host + device; tests/test_cuda_host.cpp checks it bit for
// bit against reference/ without a GPU). Passes, one stream, no host round trip:
//   input stats (nanmin/nanmax, for the clip) → NaN counts → NaN/inf fill → prefilter (a warp per 32
//   lines through shared-memory tiles, chunks in registers; axis 0 then axis 1 of the array scipy sees) → interpolation (one thread per output pixel,
//   64-bit coordinates, (order+1)² taps, the NaN mask's order-1 interpolation fused in) → output stats
//   → clip, store and exposure scale (fused).
// Built with -fmad=false: each product and sum rounds where scipy's does.
#include "fast/cuda/register_cuda.hpp"

#include <cuda_runtime.h>

#include <mutex>

#include "core/error.hpp"
#include "fast/cuda/cuda_host.hpp"
#include "fast/cuda/cuda_util.cuh"
#include "fast/cuda/register_math.hpp"

namespace aiaccel::cuda {
namespace {

using regmath::Geometry;
using regmath::MinMax;

constexpr unsigned kThreads = 256;
constexpr unsigned kStatBlocks = 512;

__global__ void minmax_partial_kernel(const double* __restrict__ a, std::size_t n, MinMax* __restrict__ partial) {
    __shared__ MinMax sh[kThreads];
    MinMax m{0, 0, 0};
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < n; p += std::size_t(gridDim.x) * blockDim.x) {
        const double v = a[p];
        if (!regmath::is_nan(v)) m = regmath::merge(m, MinMax{v, v, 1});
    }
    sh[threadIdx.x] = m;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) sh[threadIdx.x] = regmath::merge(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}
__global__ void minmax_final_kernel(const MinMax* __restrict__ partial, unsigned parts, MinMax* __restrict__ out) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    MinMax m{0, 0, 0};
    for (unsigned i = 0; i < parts; ++i) m = regmath::merge(m, partial[i]);
    *out = m;
}

__global__ void nan_counts_kernel(const double* __restrict__ a, long long rows, long long cols, int half, double* __restrict__ counts) {
    const long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x, r = (long long)blockIdx.y * blockDim.y + threadIdx.y;
    if (r >= rows || c >= cols) return;
    counts[r * cols + c] = regmath::nan_count(a, rows, cols, half, r, c);
}
__global__ void fill_kernel(double* __restrict__ a, std::size_t n, double substitute, double big, bool integer_dtype) {
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < n; p += std::size_t(gridDim.x) * blockDim.x)
        a[p] = regmath::fill_value(a[p], substitute, big, integer_dtype);
}

// The prefilter: one warp per kChunk lines, one thread per line, walking its line in chunks of kChunk
// samples (register_math.hpp's passes: mirror sum, causal, anti-causal per pole). Each chunk of the
// warp's lines moves between global memory and a shared-memory tile in coalesced rows (lane = sample
// for lines along stored rows, lane = line for lines along columns: the tile is the transpose), then
// into the thread's registers, where the recursion runs with no memory operation in its chain.
// Rows: the lines are stored rows (sample stride 1, line stride `stride`); else stored columns (line
// stride 1, sample stride `stride`).
constexpr int kW = regmath::kChunk;
using Tile = double[kW][kW + 1];  // +1: column reads of the tile fall in different banks

template <bool Rows>
__device__ __forceinline__ std::size_t at(long long line, long long e, long long stride) {
    return Rows ? std::size_t(line * stride + e) : std::size_t(e * stride + line);
}
// tile[l][k] = sample e0 + k (or e0 − k when reversed) of line line0 + l, for k < n.
template <bool Rows>
__device__ __forceinline__ void load_tile(const double* __restrict__ c, Tile& t, long long line0, long long lines, long long e0, int n, bool reversed,
                                          long long stride) {
    const int lane = int(threadIdx.x);
#pragma unroll 8
    for (int r = 0; r < kW; ++r) {
        const int l = Rows ? r : lane, k = Rows ? lane : r;  // Rows: lanes run along the samples of line r
        const long long e = reversed ? e0 - k : e0 + k;
        if (k < n && line0 + l < lines) t[l][k] = c[at<Rows>(line0 + l, e, stride)];
    }
}
template <bool Rows>
__device__ __forceinline__ void store_tile(double* __restrict__ c, const Tile& t, long long line0, long long lines, long long e0, int n,
                                           long long stride) {
    const int lane = int(threadIdx.x);
#pragma unroll 8
    for (int r = 0; r < kW; ++r) {
        const int l = Rows ? r : lane, k = Rows ? lane : r;
        if (k < n && line0 + l < lines) c[at<Rows>(line0 + l, e0 + k, stride)] = t[l][k];
    }
}
__device__ __forceinline__ void tile_to_regs(const Tile& t, double (&v)[kW], int n) {
#pragma unroll
    for (int k = 0; k < kW; ++k) v[k] = k < n ? t[threadIdx.x][k] : 0.0;
}
__device__ __forceinline__ void regs_to_tile(Tile& t, const double (&v)[kW], int n) {
#pragma unroll
    for (int k = 0; k < kW; ++k)
        if (k < n) t[threadIdx.x][k] = v[k];
}

template <bool Rows, bool Gain>
__device__ void prefilter_pole(double* __restrict__ c, Tile& t, Tile& tm, long long line0, long long lines, long long len, long long stride, double z,
                               double z_n_1, double gain) {
    const bool active = line0 + threadIdx.x < lines;
    double v[kW], m[kW];
    // A: the mirror initialisation sum (read only).
    double acc = 0, z_i = 0;
    for (long long e0 = 0; e0 < len; e0 += kW) {
        const int n = int(len - e0 < kW ? len - e0 : kW);
        load_tile<Rows>(c, t, line0, lines, e0, n, false, stride);
        load_tile<Rows>(c, tm, line0, lines, len - 1 - e0, n, true, stride);
        __syncwarp();
        tile_to_regs(t, v, n);
        tile_to_regs(tm, m, n);
        __syncwarp();
        if (active) regmath::init_chunk<Gain, kW>(v, m, e0, n, len, z, z_n_1, gain, acc, z_i);
    }
    const double c0 = regmath::init_end(acc, z_n_1);
    // B: causal, forward.
    double prev = 0;
    for (long long e0 = 0; e0 < len; e0 += kW) {
        const int n = int(len - e0 < kW ? len - e0 : kW);
        load_tile<Rows>(c, t, line0, lines, e0, n, false, stride);
        __syncwarp();
        tile_to_regs(t, v, n);
        if (active) regmath::causal_chunk<Gain, kW>(v, e0, n, len, z, gain, c0, prev);
        regs_to_tile(t, v, n);
        __syncwarp();
        store_tile<Rows>(c, t, line0, lines, e0, n, stride);
        __syncwarp();
    }
    // C: anti-causal, backward.
    double next = 0;
    for (long long e0 = (len - 1) / kW * kW; e0 >= 0; e0 -= kW) {
        const int n = int(len - e0 < kW ? len - e0 : kW);
        load_tile<Rows>(c, t, line0, lines, e0, n, false, stride);
        __syncwarp();
        tile_to_regs(t, v, n);
        if (active) regmath::anticausal_chunk<kW>(v, e0, n, len, z, next);
        regs_to_tile(t, v, n);
        __syncwarp();
        store_tile<Rows>(c, t, line0, lines, e0, n, stride);
        __syncwarp();
    }
}

template <bool Rows>
__global__ void __launch_bounds__(kW) prefilter_kernel(double* __restrict__ c, long long lines, long long len, long long stride, regmath::Poles ps) {
    __shared__ Tile t, tm;
    const long long line0 = (long long)blockIdx.x * kW;
    if (len <= 1) return;
    prefilter_pole<Rows, true>(c, t, tm, line0, lines, len, stride, ps.z[0], ps.z_n_1[0], ps.gain);
    if (ps.count > 1) prefilter_pole<Rows, false>(c, t, tm, line0, lines, len, stride, ps.z[1], ps.z_n_1[1], 1.0);
}

// One output pixel per thread; x runs along the returned image's columns (coalesced stores).
template <int Order>
__global__ void affine_kernel(const double* __restrict__ coef, const double* __restrict__ counts, Geometry g, double cval_stored, int dtype,
                              double* __restrict__ out) {
    const long long fc = (long long)blockIdx.x * blockDim.x + threadIdx.x, fr = (long long)blockIdx.y * blockDim.y + threadIdx.y;
    const long long frows = g.transposed ? g.out1 : g.out0, fcols = g.transposed ? g.out0 : g.out1;
    if (fr >= frows || fc >= fcols) return;
    const long long o0 = g.transposed ? fc : fr, o1 = g.transposed ? fr : fc;
    out[fr * fcols + fc] = regmath::output_pixel<Order>(coef, counts, g, o0, o1, cval_stored, dtype);
}

template <int Order>
void launch_affine(const Launch2d& l, cudaStream_t s, const double* coef, const double* counts, const Geometry& g, double cval, int dtype,
                   double* out) {
    affine_kernel<Order><<<dim3(l.gx, l.gy), dim3(l.bx, l.by), 0, s>>>(coef, counts, g, cval, dtype, out);
}

// sunpy's clip (reference::rotate's rule) and the exposure scale, in one pass.
__global__ void finish_kernel(double* __restrict__ a, std::size_t n, const MinMax* __restrict__ in_stats, const MinMax* __restrict__ out_stats,
                              bool clip, double missing, int dtype, double scale) {
    double lower = 0, upper = 0;
    const bool do_clip = regmath::clip_bounds(clip, missing, *in_stats, *out_stats, lower, upper);
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < n; p += std::size_t(gridDim.x) * blockDim.x)
        a[p] = regmath::finish_value(a[p], do_clip, lower, upper, dtype, scale);
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
    struct StreamGuard {
        cudaStream_t s;
        ~StreamGuard() {
            cudaStreamSynchronize(s);
            cudaStreamDestroy(s);
        }
    } guard{s};

    DeviceBuffer<double> coef(n_in), out(n_out), counts(job.nan.enabled ? n_in : 0);
    DeviceBuffer<MinMax> partial(kStatBlocks), stats(2);
    begin_timing("register");
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
        nan_counts_kernel<<<dim3(li.gx, li.gy), dim3(li.bx, li.by), 0, s>>>(coef.get(), (long long)rows, (long long)cols,
                                                                            regmath::kNanMaskSize[order] / 2, counts.get());
        fill_kernel<<<launch_1d(n_in, kThreads).blocks, kThreads, 0, s>>>(coef.get(), n_in, job.nan.substitute, job.nan.big, job.nan.integer_dtype);
        check_launch("NaN counts and fill");
    }
    if (job.prefilter && order > 1) {
        for (const regmath::LinePass& p : regmath::prefilter_passes(rows, cols, map.transposed)) {
            const unsigned blocks = unsigned((p.lines + kW - 1) / kW);
            const regmath::Poles ps = regmath::poles_for(order, p.len);
            if (p.elem_step == 1)
                prefilter_kernel<true><<<blocks, kW, 0, s>>>(coef.get(), (long long)p.lines, (long long)p.len, (long long)p.line_step, ps);
            else
                prefilter_kernel<false><<<blocks, kW, 0, s>>>(coef.get(), (long long)p.lines, (long long)p.len, (long long)p.elem_step, ps);
            check_launch("prefilter_kernel");
        }
    }
    const Geometry g = regmath::make_geometry(map, rows, cols);
    const Launch2d lo = launch_2d(frows, fcols);
    const double* cnt = job.nan.enabled ? counts.get() : nullptr;
    const double cval = regmath::store_as(map.cval, int(map.output));
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
