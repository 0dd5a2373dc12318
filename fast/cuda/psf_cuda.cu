// CUDA PSF — the mathematics of aiapy 0.10.2 `psf`/`_psf` and 0.12.1 `calculate_psf` in the operation
// order of fast/cpu/psf_cpu.cpp:
//  * spikes: one thread per pixel; a block is one tile of kPsfTileRows × kPsfTileCols pixels and walks
//    the tile's spot list (spot order = aiapy's: orders outer, arms inner), adding each Gaussian whose
//    exact window holds the pixel: the per-pixel sum is psf_cpu's, term for term;
//  * ΣS: one thread per row adding left to right (a warp per 32 rows through a shared-memory tile), then
//    the row sums in row order (psf_cpu's order);
//    the core block and ΣC come from the host (psf_cuda_host.cpp: 26² exps);
//  * composite: D2Z of both components, the product, Z2D and |·|/n² point-reflected about [n/2, n/2].
// Built with -fmad=false. The device exp() is within 1 ulp of glibc's: components agree to a few ulp.
#include "fast/cuda/psf_cuda.hpp"

#include <cuda_runtime.h>

#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "fast/cuda/cufft_plans.cuh"
#include "fast/cuda/cuda_host.hpp"
#include "fast/cuda/cuda_util.cuh"
#include "fast/cuda/psf_cuda_host.hpp"
#include "fast/cuda/psf_math.hpp"

namespace aiaccel::cuda {
namespace {

constexpr int kPsfPlanSlot = 2;  // the PSF's own cuFFT plans (RL uses slots 0 and 1)
constexpr unsigned kThreads = 256;

template <bool V10>
__global__ void spikes_kernel(const PsfSpot* __restrict__ spots, const std::uint32_t* __restrict__ offsets, const std::uint32_t* __restrict__ list,
                              double w, int n, double* __restrict__ S) {
    const int j = int(blockIdx.x * blockDim.x + threadIdx.x), i = int(blockIdx.y * blockDim.y + threadIdx.y);
    if (i >= n || j >= n) return;
    const std::size_t tile = std::size_t(blockIdx.y) * gridDim.x + blockIdx.x;
    S[std::size_t(i) * std::size_t(n) + std::size_t(j)] = psfmath::spike_sum<V10>(spots, list, offsets[tile], offsets[tile + 1], i, j, w);
}

// ΣS per row, left to right as psf_cpu: one warp per 32 rows, one thread per row; each 32-column chunk
// of the warp's rows is read in coalesced rows into a shared-memory tile (lane = column), and each
// thread then adds its row's 32 values from the tile in column order.
constexpr int kRowTile = 32;
__global__ void __launch_bounds__(kRowTile) row_sums_kernel(const double* __restrict__ S, int n, double* __restrict__ row_s) {
    __shared__ double tile[kRowTile][kRowTile + 1];
    const int lane = int(threadIdx.x), row0 = int(blockIdx.x) * kRowTile;
    double acc = 0;
    for (int j0 = 0; j0 < n; j0 += kRowTile) {
        const int m = n - j0 < kRowTile ? n - j0 : kRowTile;
#pragma unroll 8
        for (int r = 0; r < kRowTile; ++r)
            if (row0 + r < n && lane < m) tile[r][lane] = S[std::size_t(row0 + r) * std::size_t(n) + std::size_t(j0 + lane)];
        __syncwarp();
#pragma unroll
        for (int k = 0; k < kRowTile; ++k)
            if (k < m) acc += tile[lane][k];
        __syncwarp();
    }
    if (row0 + lane < n) row_s[row0 + lane] = acc;
}

// ΣS = the row sums added in row order (psf_cpu's order, which the host emulation proves equal; a tree
// would round differently): the block stages them into shared memory in coalesced chunks and one
// thread adds them (n dependent adds, a few µs at n = 4096).
constexpr int kTotalChunk = 2048;
__global__ void total_kernel(const double* __restrict__ row_s, int n, double* __restrict__ sum) {
    __shared__ double buf[kTotalChunk];
    double acc = 0;
    for (int b = 0; b < n; b += kTotalChunk) {
        const int m = n - b < kTotalChunk ? n - b : kTotalChunk;
        for (int k = int(threadIdx.x); k < m; k += int(blockDim.x)) buf[k] = row_s[b + k];
        __syncthreads();
        if (threadIdx.x == 0)
            for (int k = 0; k < m; ++k) acc += buf[k];
        __syncthreads();
    }
    if (threadIdx.x == 0) *sum = acc;
}

// S ← 0.18·S/ΣS + 0.82·C/ΣC (C = 0 outside the core block).
template <bool V10>
__global__ void normalise_kernel(double* __restrict__ S, int n, const double* __restrict__ sum_s_dev, const double* __restrict__ core,
                                 long long core_lo, long long core_n, double sum_c) {
    const double sum_s = *sum_s_dev;
    const std::size_t total = std::size_t(n) * std::size_t(n);
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < total; p += std::size_t(gridDim.x) * blockDim.x) {
        const long long i = (long long)(p / std::size_t(n)), j = (long long)(p % std::size_t(n));
        S[p] = psfmath::normalise<V10>(S[p], psfmath::core_at(core, core_lo, core_n, i, j), sum_s, sum_c);
    }
}

__global__ void product_kernel(cufftDoubleComplex* __restrict__ a, const cufftDoubleComplex* __restrict__ b, std::size_t ns) {
    for (std::size_t k = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; k < ns; k += std::size_t(gridDim.x) * blockDim.x) {
        const double ar = a[k].x, ai = a[k].y, br = b[k].x, bi = b[k].y;
        a[k].x = ar * br - ai * bi;
        a[k].y = ar * bi + ai * br;
    }
}

// out[i][j] = |conv[(n/2 − i) mod n][(n/2 − j) mod n]| / n².
__global__ void reflect_abs_kernel(const double* __restrict__ conv, double* __restrict__ out, int n, double inv) {
    const std::size_t total = std::size_t(n) * std::size_t(n), un = std::size_t(n);
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < total; p += std::size_t(gridDim.x) * blockDim.x) {
        const std::size_t i = p / un, j = p % un;
        const std::size_t si = (un / 2 + un - i) % un, sj = (un / 2 + un - j) % un;
        out[p] = fabs(conv[si * un + sj]) * inv;
    }
}

std::mutex& psf_mutex() {
    static std::mutex mu;
    return mu;
}

// A stream for one PSF call.
struct Stream {
    cudaStream_t s{};
    Stream() { check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate"); }
    ~Stream() { cudaStreamDestroy(s); }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
};

// One component's inputs (spots, tile lists, core block: host work) in pinned memory and their device
// buffers, all made before any timed span; upload() and enqueue() only put work on the stream. The
// uploads are cudaMemcpyAsync on the kernels' own stream (a plain cudaMemcpy runs on the legacy stream,
// which a non-blocking stream does not wait for), from pinned memory that lives as long as the job.
class ComponentJob {
public:
    ComponentJob(const cpu::MeshParams& mp, cpu::Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed)
        : n_(n), width_(mp.width), v10_(v == AiapyVersion::v0_10_2) {
        const std::vector<PsfSpot> spots = psf_spots(mp, which, orders, v, n, windowed);
        const TileLists tl = psf_tile_lists(spots, n, kPsfTileRows, kPsfTileCols);
        const PsfCore core = psf_core(mp, v, n, windowed);
        tiles_x_ = tl.tiles_x;
        tiles_y_ = tl.tiles_y;
        core_lo_ = core.lo;
        core_n_ = static_cast<long long>(core.block.rows());
        core_sum_ = core.sum;
        stage(h_spots_, d_spots_, spots.data(), spots.size());
        stage(h_off_, d_off_, tl.offsets.data(), tl.offsets.size());
        stage(h_list_, d_list_, tl.spots.data(), tl.spots.size());
        stage(h_core_, d_core_, core.block.data(), core.block.size());
        d_rows_ = DeviceBuffer<double>(n);
        d_sum_ = DeviceBuffer<double>(1);
    }
    void upload(cudaStream_t s) const {
        copy(d_spots_, h_spots_, s, "upload spots");
        copy(d_off_, h_off_, s, "upload tile offsets");
        copy(d_list_, h_list_, s, "upload tile lists");
        copy(d_core_, h_core_, s, "upload core");
    }
    // S (device, n×n) ← the normalised component, on stream s.
    void enqueue(double* S, cudaStream_t s) const {
        const int ni = static_cast<int>(n_);
        const dim3 block(kPsfTileCols, kPsfTileRows), grid{unsigned(tiles_x_), unsigned(tiles_y_)};
        if (v10_)
            spikes_kernel<true><<<grid, block, 0, s>>>(d_spots_.get(), d_off_.get(), d_list_.get(), width_, ni, S);
        else
            spikes_kernel<false><<<grid, block, 0, s>>>(d_spots_.get(), d_off_.get(), d_list_.get(), width_, ni, S);
        check_launch("spikes_kernel");
        row_sums_kernel<<<unsigned((n_ + kRowTile - 1) / kRowTile), kRowTile, 0, s>>>(S, ni, d_rows_.get());
        total_kernel<<<1, kThreads, 0, s>>>(d_rows_.get(), ni, d_sum_.get());
        const Launch1d l = launch_1d(n_ * n_, kThreads);
        if (v10_)
            normalise_kernel<true><<<l.blocks, l.threads, 0, s>>>(S, ni, d_sum_.get(), d_core_.get(), core_lo_, core_n_, core_sum_);
        else
            normalise_kernel<false><<<l.blocks, l.threads, 0, s>>>(S, ni, d_sum_.get(), d_core_.get(), core_lo_, core_n_, core_sum_);
        check_launch("psf normalisation kernels");
    }

private:
    template <class T>
    static void stage(PinnedBuffer<T>& h, DeviceBuffer<T>& d, const T* src, std::size_t count) {
        h = PinnedBuffer<T>(count);
        d = DeviceBuffer<T>(count);
        if (count) std::memcpy(h.get(), src, count * sizeof(T));
    }
    template <class T>
    static void copy(const DeviceBuffer<T>& d, const PinnedBuffer<T>& h, cudaStream_t s, const char* what) {
        if (h.size()) check(cudaMemcpyAsync(d.get(), h.get(), h.size() * sizeof(T), cudaMemcpyHostToDevice, s), what);
    }
    std::size_t n_;
    double width_;
    bool v10_;
    std::size_t tiles_x_ = 0, tiles_y_ = 0;
    long long core_lo_ = 0, core_n_ = 0;
    double core_sum_ = 0;
    PinnedBuffer<PsfSpot> h_spots_;
    PinnedBuffer<std::uint32_t> h_off_, h_list_;
    PinnedBuffer<double> h_core_;
    DeviceBuffer<PsfSpot> d_spots_;
    DeviceBuffer<std::uint32_t> d_off_, d_list_;
    DeviceBuffer<double> d_core_, d_rows_, d_sum_;
};

// The composite's spectra and plans, made before any timed span; enqueue() overwrites both components
// and leaves the PSF in `focal`.
class CombineJob {
public:
    CombineJob(std::size_t n, cudaStream_t s)
        : n_(n),
          ns_(half_spectrum_elems(n, n)),
          fa_(ns_),
          fb_(ns_),
          fwd_(cached_plan({n, n, Precision::f64, FftKind::r2c, kPsfPlanSlot}, s)),
          inv_(cached_plan({n, n, Precision::f64, FftKind::c2r, kPsfPlanSlot}, s)) {}
    void enqueue(double* entrance, double* focal, AiapyVersion v, cudaStream_t s) const {
        // aiapy multiplies fft2(focal)·fft2(entrance) in 0.10.2 and the other way round in 0.12.1.
        const bool v10 = v == AiapyVersion::v0_10_2;
        exec_r2c(fwd_, v10 ? focal : entrance, fa_.get());
        exec_r2c(fwd_, v10 ? entrance : focal, fb_.get());
        product_kernel<<<launch_1d(ns_, kThreads).blocks, kThreads, 0, s>>>(fa_.get(), fb_.get(), ns_);
        check_launch("product_kernel");
        exec_c2r(inv_, fa_.get(), entrance);  // = n²·(A ⊛ B)
        const double inv_n2 = 1.0 / (static_cast<double>(n_) * static_cast<double>(n_));
        reflect_abs_kernel<<<launch_1d(n_ * n_, kThreads).blocks, kThreads, 0, s>>>(entrance, focal, static_cast<int>(n_), inv_n2);
        check_launch("reflect_abs_kernel");
    }

private:
    std::size_t n_, ns_;
    DeviceBuffer<cufftDoubleComplex> fa_, fb_;
    cufftHandle fwd_, inv_;
};

// n×n device doubles into a new host image, on stream s, then wait for the stream.
Image<double> download(const double* d, std::size_t n, cudaStream_t s, const char* what) {
    Image<double> out(n, n);
    check(cudaMemcpyAsync(out.data(), d, n * n * sizeof(double), cudaMemcpyDeviceToHost, s), what);
    check(cudaStreamSynchronize(s), what);
    return out;
}

void require_psf_memory(std::size_t n) {
    const DeviceMemory m = device_memory();
    require_fits(psf_budget(n, (n / kPsfTileRows) * (n / kPsfTileCols) * 16, 64 * 64), m.free, m.name);
}

void check_square_even(std::size_t n, std::size_t r2, std::size_t c2) {
    if (r2 != n || c2 != n || n % 2 || n == 0) throw Error(ErrorKind::internal, "cuda psf: components must be square, of one even size");
}

}  // namespace

Image<double> psf_component_cuda(const cpu::MeshParams& mp, cpu::Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n,
                                 bool windowed) {
    std::lock_guard lock(psf_mutex());
    const DeviceMemory m = device_memory();
    Budget b = psf_budget(n, 0, 0);
    b.buffers = n * n * 8 + (1 << 20);
    b.fft_workspace = 0;
    require_fits(b, m.free, m.name);
    Stream st;
    DeviceBuffer<double> S(n * n);
    const ComponentJob job(mp, which, orders, v, n, windowed);
    job.upload(st.s);
    job.enqueue(S.get(), st.s);
    return download(S.get(), n, st.s, "download of the component");
}

Image<double> psf_combine_cuda(const Image<double>& entrance, const Image<double>& focal, AiapyVersion v) {
    const std::size_t n = entrance.rows();
    check_square_even(n, entrance.cols(), n);
    check_square_even(n, focal.rows(), focal.cols());
    std::lock_guard lock(psf_mutex());
    require_psf_memory(n);
    Stream st;
    DeviceBuffer<double> e(n * n), f(n * n);
    const CombineJob combine(n, st.s);
    check(cudaMemcpyAsync(e.get(), entrance.data(), n * n * 8, cudaMemcpyHostToDevice, st.s), "upload entrance component");
    check(cudaMemcpyAsync(f.get(), focal.data(), n * n * 8, cudaMemcpyHostToDevice, st.s), "upload focal-plane component");
    combine.enqueue(e.get(), f.get(), v, st.s);
    return download(f.get(), n, st.s, "download of the PSF");
}

Image<double> psf_cuda(int channel, bool preflight_core, AiapyVersion v) {
    const cpu::MeshParams mp = cpu::mesh_params(channel, preflight_core);  // Error(not_aia) for other channels
    std::vector<int> orders;
    for (int m = -100; m <= 100; ++m) orders.push_back(m);
    constexpr std::size_t n = 4096;
    std::lock_guard lock(psf_mutex());
    require_psf_memory(n);
    Stream st;
    // Everything that is not device work happens before the timed span: the spot and tile lists, the
    // core block, pinned staging, every device allocation and the cuFFT plans (made on first use).
    DeviceBuffer<double> e(n * n), f(n * n);
    const ComponentJob je(mp, cpu::Component::entrance, orders, v, n, true);
    const ComponentJob jf(mp, cpu::Component::focal_plane, orders, v, n, true);
    const CombineJob combine(n, st.s);
    Image<double> out(n, n);
    begin_timing("psf");
    StageEvents ev;
    ev.mark(0, st.s);
    je.upload(st.s);
    jf.upload(st.s);
    ev.mark(1, st.s);
    je.enqueue(e.get(), st.s);
    jf.enqueue(f.get(), st.s);
    combine.enqueue(e.get(), f.get(), v, st.s);
    ev.mark(2, st.s);
    check(cudaMemcpyAsync(out.data(), f.get(), n * n * sizeof(double), cudaMemcpyDeviceToHost, st.s), "download of the PSF");
    ev.mark(3, st.s);
    check(cudaStreamSynchronize(st.s), "PSF on the device");
    record_timing("psf", ev.times());
    return out;
}

}  // namespace aiaccel::cuda
