// CUDA PSF — the mathematics of aiapy 0.10.2 `psf`/`_psf` and 0.12.1 `calculate_psf` in the operation
// order of fast/cpu/psf_cpu.cpp:
//  * spikes: one thread per pixel; a block is one tile of kPsfTileRows × kPsfTileCols pixels and walks
//    the tile's spot list (spot order = aiapy's: orders outer, arms inner), adding each Gaussian whose
//    exact window holds the pixel: the per-pixel sum is psf_cpu's, term for term;
//  * ΣS: one thread per row adding left to right, then the row sums in row order (psf_cpu's order);
//    the core block and ΣC come from the host (psf_cuda_host.cpp: 26² exps);
//  * composite: D2Z of both components, the product, Z2D and |·|/n² point-reflected about [n/2, n/2].
// Built with -fmad=false. The device exp() is within 1 ulp of glibc's: components agree to a few ulp.
#include "fast/cuda/psf_cuda.hpp"

#include <cuda_runtime.h>

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
__global__ void spikes_kernel(const PsfSpot* __restrict__ spots, const std::uint32_t* __restrict__ offsets,
                              const std::uint32_t* __restrict__ list, double w, int n, double* __restrict__ S) {
    const int j = int(blockIdx.x * blockDim.x + threadIdx.x), i = int(blockIdx.y * blockDim.y + threadIdx.y);
    if (i >= n || j >= n) return;
    const std::size_t tile = std::size_t(blockIdx.y) * gridDim.x + blockIdx.x;
    S[std::size_t(i) * std::size_t(n) + std::size_t(j)] = psfmath::spike_sum<V10>(spots, list, offsets[tile], offsets[tile + 1], i, j, w);
}

__global__ void row_sums_kernel(const double* __restrict__ S, int n, double* __restrict__ row_s) {
    const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= n) return;
    const double* row = S + std::size_t(i) * std::size_t(n);
    double acc = 0;
    for (int j = 0; j < n; ++j) acc += row[j];
    row_s[i] = acc;
}

__global__ void total_kernel(const double* __restrict__ row_s, int n, double* __restrict__ sum) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double acc = 0;
    for (int i = 0; i < n; ++i) acc += row_s[i];
    *sum = acc;
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

// One component into S (device, n×n) on stream s. Host arrays stay alive until the stream is synchronised
// by the caller (uploads are synchronous for pageable memory, so they may go at once).
void component_on_device(const cpu::MeshParams& mp, cpu::Component which, const std::vector<int>& orders, AiapyVersion v,
                         std::size_t n, bool windowed, double* S, cudaStream_t s) {
    const std::vector<PsfSpot> spots = psf_spots(mp, which, orders, v, n, windowed);
    const TileLists tl = psf_tile_lists(spots, n, kPsfTileRows, kPsfTileCols);
    const PsfCore core = psf_core(mp, v, n, windowed);
    DeviceBuffer<PsfSpot> d_spots(spots.size());
    DeviceBuffer<std::uint32_t> d_off(tl.offsets.size()), d_list(tl.spots.size());
    DeviceBuffer<double> d_core(core.block.size()), d_rows(n), d_sum(1);
    if (!spots.empty()) check(cudaMemcpy(d_spots.get(), spots.data(), spots.size() * sizeof(PsfSpot), cudaMemcpyHostToDevice), "upload spots");
    check(cudaMemcpy(d_off.get(), tl.offsets.data(), tl.offsets.size() * 4, cudaMemcpyHostToDevice), "upload tile offsets");
    if (!tl.spots.empty()) check(cudaMemcpy(d_list.get(), tl.spots.data(), tl.spots.size() * 4, cudaMemcpyHostToDevice), "upload tile lists");
    if (!core.block.empty()) check(cudaMemcpy(d_core.get(), core.block.data(), core.block.size() * 8, cudaMemcpyHostToDevice), "upload core");

    const bool v10 = v == AiapyVersion::v0_10_2;
    const int ni = static_cast<int>(n);
    const dim3 block(kPsfTileCols, kPsfTileRows), grid(unsigned(tl.tiles_x), unsigned(tl.tiles_y));
    if (v10) spikes_kernel<true><<<grid, block, 0, s>>>(d_spots.get(), d_off.get(), d_list.get(), mp.width, ni, S);
    else spikes_kernel<false><<<grid, block, 0, s>>>(d_spots.get(), d_off.get(), d_list.get(), mp.width, ni, S);
    check_launch("spikes_kernel");
    row_sums_kernel<<<launch_1d(n, 128).blocks, 128, 0, s>>>(S, ni, d_rows.get());
    total_kernel<<<1, 1, 0, s>>>(d_rows.get(), ni, d_sum.get());
    const Launch1d l = launch_1d(n * n, kThreads);
    const auto cn = static_cast<long long>(core.block.rows());
    if (v10) normalise_kernel<true><<<l.blocks, l.threads, 0, s>>>(S, ni, d_sum.get(), d_core.get(), core.lo, cn, core.sum);
    else normalise_kernel<false><<<l.blocks, l.threads, 0, s>>>(S, ni, d_sum.get(), d_core.get(), core.lo, cn, core.sum);
    check_launch("psf normalisation kernels");
    check(cudaStreamSynchronize(s), "PSF component on the device");  // before the small buffers are freed
}

// The composite of the two device components (both overwritten) into host memory.
Image<double> combine_on_device(double* entrance, double* focal, std::size_t n, AiapyVersion v, cudaStream_t s,
                                StageEvents* ev = nullptr) {
    const std::size_t ns = half_spectrum_elems(n, n);
    DeviceBuffer<cufftDoubleComplex> fa(ns), fb(ns);
    const cufftHandle fwd = cached_plan({n, n, Precision::f64, FftKind::r2c, kPsfPlanSlot}, s);
    const cufftHandle inv = cached_plan({n, n, Precision::f64, FftKind::c2r, kPsfPlanSlot}, s);
    // aiapy multiplies fft2(focal)·fft2(entrance) in 0.10.2 and the other way round in 0.12.1.
    const bool v10 = v == AiapyVersion::v0_10_2;
    exec_r2c(fwd, v10 ? focal : entrance, fa.get());
    exec_r2c(fwd, v10 ? entrance : focal, fb.get());
    product_kernel<<<launch_1d(ns, kThreads).blocks, kThreads, 0, s>>>(fa.get(), fb.get(), ns);
    check_launch("product_kernel");
    exec_c2r(inv, fa.get(), entrance);  // = n²·(A ⊛ B)
    const double inv_n2 = 1.0 / (static_cast<double>(n) * static_cast<double>(n));
    reflect_abs_kernel<<<launch_1d(n * n, kThreads).blocks, kThreads, 0, s>>>(entrance, focal, static_cast<int>(n), inv_n2);
    check_launch("reflect_abs_kernel");
    if (ev) ev->mark(2, s);
    Image<double> out(n, n);
    check(cudaMemcpyAsync(out.data(), focal, n * n * sizeof(double), cudaMemcpyDeviceToHost, s), "download of the PSF");
    if (ev) ev->mark(3, s);
    check(cudaStreamSynchronize(s), "PSF composite on the device");
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

Image<double> psf_component_cuda(const cpu::MeshParams& mp, cpu::Component which, const std::vector<int>& orders, AiapyVersion v,
                                 std::size_t n, bool windowed) {
    std::lock_guard lock(psf_mutex());
    const DeviceMemory m = device_memory();
    Budget b = psf_budget(n, 0, 0);
    b.buffers = n * n * 8 + (1 << 20);
    b.fft_workspace = 0;
    require_fits(b, m.free, m.name);
    Stream st;
    DeviceBuffer<double> S(n * n);
    component_on_device(mp, which, orders, v, n, windowed, S.get(), st.s);
    Image<double> out(n, n);
    check(cudaMemcpy(out.data(), S.get(), n * n * sizeof(double), cudaMemcpyDeviceToHost), "download of the component");
    return out;
}

Image<double> psf_combine_cuda(const Image<double>& entrance, const Image<double>& focal, AiapyVersion v) {
    const std::size_t n = entrance.rows();
    check_square_even(n, entrance.cols(), n);
    check_square_even(n, focal.rows(), focal.cols());
    std::lock_guard lock(psf_mutex());
    require_psf_memory(n);
    Stream st;
    DeviceBuffer<double> e(n * n), f(n * n);
    check(cudaMemcpy(e.get(), entrance.data(), n * n * 8, cudaMemcpyHostToDevice), "upload entrance component");
    check(cudaMemcpy(f.get(), focal.data(), n * n * 8, cudaMemcpyHostToDevice), "upload focal-plane component");
    return combine_on_device(e.get(), f.get(), n, v, st.s);
}

Image<double> psf_cuda(int channel, bool preflight_core, AiapyVersion v) {
    const cpu::MeshParams mp = cpu::mesh_params(channel, preflight_core);  // Error(not_aia) for other channels
    std::vector<int> orders;
    for (int m = -100; m <= 100; ++m) orders.push_back(m);
    constexpr std::size_t n = 4096;
    std::lock_guard lock(psf_mutex());
    require_psf_memory(n);
    Stream st;
    DeviceBuffer<double> e(n * n), f(n * n);
    StageEvents ev;
    ev.mark(0, st.s);
    ev.mark(1, st.s);  // nothing to upload but the spot lists (inside the compute span)
    component_on_device(mp, cpu::Component::entrance, orders, v, n, true, e.get(), st.s);
    component_on_device(mp, cpu::Component::focal_plane, orders, v, n, true, f.get(), st.s);
    Image<double> out = combine_on_device(e.get(), f.get(), n, v, st.s, &ev);
    record_timing("psf", ev.times());
    return out;
}

}  // namespace aiaccel::cuda
