// CUDA Richardson–Lucy — the arithmetic of aiapy.psf.deconvolve (0.10.2 = 0.12.1 numpy path) in the
// operation order of fast/cpu/deconvolve_cpu.cpp:
//   H = rfft2(roll(psf, n/2))/(rows·cols) in float64, rounded once to T; u = img = clip(img)
//   repeat: est = irfft2'(rfft2(u)·H); est = img/est; est = irfft2'(rfft2(est)·conj(H)); u = u·est
// (irfft2' = the unscaled c2r; the 1/(rows·cols) is in H, exact for power-of-two sizes).
//  * cuFFT plans cached per (size, precision, direction, stream slot) — cufft_plans.cuh;
//  * H resident on the device in an LRU keyed by the PSF's content (spectrum_cache.hpp); the roll is
//    four strided quadrant copies straight into the f64 transform's input;
//  * four pointwise kernels per iteration, nothing copied to the host until the loop ends;
//  * the library is compiled with -fmad=false: the complex products and the ratio round as the
//    CPU's SSE2 code does (no fused multiply-add), so the accuracy is the CPU row's.
#include "fast/cuda/deconvolve_cuda.hpp"

#include <cuda_runtime.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "core/backend.hpp"
#include "fast/cuda/cufft_plans.cuh"
#include "fast/cuda/cuda_util.cuh"
#include "fast/cuda/spectrum_cache.hpp"
#include "fast/cuda/two_slot_pipeline.hpp"

namespace aiaccel::cuda {
namespace {

constexpr unsigned kThreads = 256;

#define AIACCEL_GRID_STRIDE(p, n) \
    for (std::size_t p = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < (n); p += std::size_t(gridDim.x) * blockDim.x)

// img = u = clip(in) rounded to T, in one pass (aiapy's where(img < 0, 0, img); NaN stays NaN).
template <class T>
__global__ void rl_init_kernel(const double* __restrict__ in, T* __restrict__ img, T* __restrict__ u, std::size_t n, bool clip) {
    AIACCEL_GRID_STRIDE(p, n) {
        const double v = in[p];
        const T t = static_cast<T>((clip && v < 0) ? 0.0 : v);
        img[p] = t;
        u[p] = t;
    }
}

// s ← s·h or s·conj(h), numpy's (ar·br − ai·bi, ar·bi + ai·br).
template <class C, bool Conj>
__global__ void rl_spectrum_kernel(C* __restrict__ s, const C* __restrict__ h, std::size_t ns) {
    AIACCEL_GRID_STRIDE(k, ns) {
        const C a = s[k], b = h[k];
        const auto br = b.x, bi = Conj ? -b.y : b.y;
        C r;
        r.x = a.x * br - a.y * bi;
        r.y = a.x * bi + a.y * br;
        s[k] = r;
    }
}

template <class T>
__global__ void rl_ratio_kernel(const T* __restrict__ img, T* __restrict__ est, std::size_t n) {
    AIACCEL_GRID_STRIDE(p, n) est[p] = img[p] / est[p];
}

template <class T>
__global__ void rl_update_kernel(T* __restrict__ u, const T* __restrict__ corr, std::size_t n) {
    AIACCEL_GRID_STRIDE(p, n) u[p] = u[p] * corr[p];
}

__global__ void to_double_kernel(const float* __restrict__ in, double* __restrict__ out, std::size_t n) {
    AIACCEL_GRID_STRIDE(p, n) out[p] = static_cast<double>(in[p]);
}

// H = h64·(1/(rows·cols)) rounded once to T (deconvolve_cpu's static_cast<T>(h·scale)).
template <class T>
__global__ void h_scale_kernel(const cufftDoubleComplex* __restrict__ h64, Complex<T>* __restrict__ H, std::size_t ns, double scale) {
    AIACCEL_GRID_STRIDE(k, ns) {
        Complex<T> r;
        r.x = static_cast<T>(h64[k].x * scale);
        r.y = static_cast<T>(h64[k].y * scale);
        H[k] = r;
    }
}

template <class T>
unsigned blocks_for(std::size_t count) {
    return launch_1d(count, kThreads).blocks;
}

// Buffers, plans and a stream for one slot at one size.
template <class T>
struct RlWorkspace {
    std::size_t rows, cols;
    int slot;
    DeviceBuffer<T> img, u, est;
    DeviceBuffer<Complex<T>> spec;
    DeviceBuffer<double> staging;  // f32: the f64 upload and download buffer (f64 uploads into est)
    PinnedBuffer<double> pin_in, pin_out;  // batches only, made on first use
    cudaStream_t stream{};

    RlWorkspace(std::size_t r, std::size_t c, int s)
        : rows(r), cols(c), slot(s), img(r * c), u(r * c), est(r * c), spec(half_spectrum_elems(r, c)), staging(sizeof(T) == 8 ? 0 : r * c) {
        check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    }
    ~RlWorkspace() {
        if (stream) cudaStreamDestroy(stream);
    }
    RlWorkspace(const RlWorkspace&) = delete;
    RlWorkspace& operator=(const RlWorkspace&) = delete;

    std::size_t n() const { return rows * cols; }
    double* upload_target() {
        if constexpr (sizeof(T) == 8)
            return est.get();
        else
            return staging.get();
    }
    void ensure_pinned() {
        if (pin_in.size() != n()) {
            pin_in = PinnedBuffer<double>(n());
            pin_out = PinnedBuffer<double>(n());
        }
    }
};

using CachedSpectrum = DeviceBuffer<char>;

struct State {
    std::mutex mu;
    std::unique_ptr<RlWorkspace<double>> ws64[2];
    std::unique_ptr<RlWorkspace<float>> ws32[2];
    std::unique_ptr<SpectrumCache<CachedSpectrum>> cache;
};
State& state() {
    static State& s = *new State();  // never destroyed (cudaFree after runtime shutdown); freed at exit by the driver
    return s;
}
template <class T>
std::unique_ptr<RlWorkspace<T>>* workspaces(State& st) {
    if constexpr (sizeof(T) == 8)
        return st.ws64;
    else
        return st.ws32;
}
SpectrumCache<CachedSpectrum>& spectrum_cache(State& st) {
    if (!st.cache) {
        // One PSF per channel (7 EUV + a few others), at most a quarter of the device's memory.
        const DeviceMemory m = device_memory();
        st.cache = std::make_unique<SpectrumCache<CachedSpectrum>>(10, m.total / 4);
    }
    return *st.cache;
}

// roll(psf, (rows/2, cols/2)) straight into the device buffer: four quadrant copies (cuda_host.hpp).
void upload_rolled(const Image<double>& psf, double* dst, cudaStream_t s) {
    const std::size_t cols = psf.cols(), pitch = cols * sizeof(double);
    for (const CopyRect& q : roll_half_copies(psf.rows(), cols))
        check(cudaMemcpy2DAsync(dst + q.dst_row * cols + q.dst_col, pitch, psf.data() + q.src_row * cols + q.src_col, pitch, q.cols * sizeof(double),
                                q.rows, cudaMemcpyHostToDevice, s),
              "cudaMemcpy2DAsync (rolled PSF)");
}

struct Prepared {
    const void* H = nullptr;  // Complex<T>*, resident in the cache
};

// Workspaces for `slots` streams and (when psf != nullptr) the resident H, after checking that what
// is still to be allocated fits in the free device memory. The caller holds st.mu.
template <class T>
Prepared prepare(State& st, std::size_t rows, std::size_t cols, int slots, const Image<double>* psf) {
    constexpr Precision P = precision_of<T>();
    auto* ws = workspaces<T>(st);
    for (int s = 0; s < 2; ++s)
        if (ws[s] && (ws[s]->rows != rows || ws[s]->cols != cols)) ws[s].reset();  // another size: free it first
    SpectrumCache<CachedSpectrum>& cache = spectrum_cache(st);
    SpectrumKey key{};
    CachedSpectrum* hit = nullptr;
    if (psf) {
        key = spectrum_key(*psf, P);
        hit = cache.find(key);
    }
    auto budget = [&](bool h_cached) {
        Budget b = rl_budget(rows, cols, P, ws[0] != nullptr, h_cached);
        for (int s = 1; s < slots; ++s) {
            const Budget more = rl_budget(rows, cols, P, ws[s] != nullptr, true);
            b.buffers += more.buffers;
            b.fft_workspace += more.fft_workspace;
        }
        return b;
    };
    Budget b = budget(!psf || hit);
    DeviceMemory m = device_memory();
    if (!fits(b, m.free) && cache.size() > 0) {  // other PSFs' transforms may make the room
        cache.clear();
        hit = nullptr;
        b = budget(!psf);
        m = device_memory();
    }
    require_fits(b, m.free, m.name);
    for (int s = 0; s < slots; ++s)
        if (!ws[s]) ws[s] = std::make_unique<RlWorkspace<T>>(rows, cols, s);
    Prepared out;
    if (!psf) return out;
    // Every slot's plans now, so that no timed span (and no batch) ever includes cuFFT planning.
    for (int s = 0; s < slots; ++s) {
        cached_plan({rows, cols, P, FftKind::r2c, s}, ws[s]->stream);
        cached_plan({rows, cols, P, FftKind::c2r, s}, ws[s]->stream);
    }
    if (hit) {
        out.H = hit->get();
        return out;
    }
    // H in float64: the rolled PSF, D2Z, scale and round to T.
    RlWorkspace<T>& w = *ws[0];
    const std::size_t ns = half_spectrum_elems(rows, cols);
    DeviceBuffer<double> rolled(rows * cols);
    DeviceBuffer<cufftDoubleComplex> h64(ns);
    upload_rolled(*psf, rolled.get(), w.stream);
    exec_r2c(cached_plan({rows, cols, Precision::f64, FftKind::r2c, 0}, w.stream), rolled.get(), h64.get());
    CachedSpectrum H(ns * sizeof(Complex<T>));
    const double scale = 1.0 / (static_cast<double>(rows) * static_cast<double>(cols));
    h_scale_kernel<T><<<blocks_for<T>(ns), kThreads, 0, w.stream>>>(h64.get(), reinterpret_cast<Complex<T>*>(H.get()), ns, scale);
    check_launch("h_scale_kernel");
    check(cudaStreamSynchronize(w.stream), "making the PSF transform");
    const std::size_t bytes = H.bytes();
    out.H = cache.insert(key, std::move(H), bytes).get();
    return out;
}

// Enqueues the whole deconvolution of the image already uploaded to w.upload_target() on w.stream,
// leaving the result in f64 at result_device(w). No synchronisation, unless `after` (called with the
// iteration count and the device estimate after each iteration) synchronises.
template <class T>
const double* enqueue_rl(RlWorkspace<T>& w, const void* Hv, int iterations, bool clip, const std::function<void(int, const T*)>& after = {}) {
    constexpr Precision P = precision_of<T>();
    const std::size_t n = w.n(), ns = half_spectrum_elems(w.rows, w.cols);
    const cudaStream_t s = w.stream;
    const unsigned gn = blocks_for<T>(n), gs = blocks_for<T>(ns);
    rl_init_kernel<T><<<gn, kThreads, 0, s>>>(w.upload_target(), w.img.get(), w.u.get(), n, clip);
    check_launch("rl_init_kernel");
    if (iterations > 0) {
        const auto* H = static_cast<const Complex<T>*>(Hv);
        const cufftHandle fwd = cached_plan({w.rows, w.cols, P, FftKind::r2c, w.slot}, s);
        const cufftHandle inv = cached_plan({w.rows, w.cols, P, FftKind::c2r, w.slot}, s);
        T* const u = w.u.get();
        T* const est = w.est.get();
        Complex<T>* const spec = w.spec.get();
        for (int it = 0; it < iterations; ++it) {
            exec_r2c(fwd, u, spec);
            rl_spectrum_kernel<Complex<T>, false><<<gs, kThreads, 0, s>>>(spec, H, ns);
            exec_c2r(inv, spec, est);
            rl_ratio_kernel<T><<<gn, kThreads, 0, s>>>(w.img.get(), est, n);
            exec_r2c(fwd, est, spec);
            rl_spectrum_kernel<Complex<T>, true><<<gs, kThreads, 0, s>>>(spec, H, ns);
            exec_c2r(inv, spec, est);
            rl_update_kernel<T><<<gn, kThreads, 0, s>>>(u, est, n);
            if (after) after(it + 1, u);
        }
        check_launch("Richardson-Lucy iteration kernels");
    }
    if constexpr (sizeof(T) == 8) {
        return w.u.get();
    } else {
        to_double_kernel<<<gn, kThreads, 0, s>>>(w.u.get(), w.staging.get(), n);
        check_launch("to_double_kernel");
        return w.staging.get();
    }
}

}  // namespace

// DeconvolveRequest's per-iteration calls: synchronise, download the estimate for on_estimate, call.
template <class T>
std::function<void(int, const T*)> iteration_calls(const DeconvolveRequest& req, std::size_t rows, std::size_t cols, cudaStream_t s,
                                                   std::vector<T>& host) {
    if (!req.on_iteration && !req.on_estimate) return {};
    return [&req, rows, cols, s, &host](int done, const T* u) {
        if (req.on_estimate) {
            host.resize(rows * cols);
            check(cudaMemcpyAsync(host.data(), u, host.size() * sizeof(T), cudaMemcpyDeviceToHost, s), "download of an estimate");
        }
        check(cudaStreamSynchronize(s), "Richardson-Lucy iteration");
        if (req.on_iteration) req.on_iteration(done, req.iterations);
        if (!req.on_estimate) return;
        EstimateView v{.iteration = done, .rows = rows, .cols = cols};
        if constexpr (sizeof(T) == 8)
            v.f64 = host.data();
        else
            v.f32 = host.data();
        req.on_estimate(v);
    };
}

template <class T>
Image<double> deconvolve_cuda(const Image<double>& image, const Image<double>& psf, const DeconvolveRequest& req) {
    const int iterations = req.iterations;
    const bool clip_negative = req.clip_negative;
    check_deconvolve_inputs(image, psf, iterations);
    const std::size_t rows = image.rows(), cols = image.cols(), n = rows * cols;
    State& st = state();
    std::lock_guard lock(st.mu);
    const Prepared prep = prepare<T>(st, rows, cols, 1, iterations > 0 ? &psf : nullptr);
    RlWorkspace<T>& w = *workspaces<T>(st)[0];
    begin_timing("deconvolve");
    StageEvents ev;
    ev.mark(0, w.stream);
    check(cudaMemcpyAsync(w.upload_target(), image.data(), n * sizeof(double), cudaMemcpyHostToDevice, w.stream), "upload of the image");
    ev.mark(1, w.stream);
    std::vector<T> host;
    const double* result = enqueue_rl<T>(w, prep.H, iterations, clip_negative, iteration_calls<T>(req, rows, cols, w.stream, host));
    ev.mark(2, w.stream);
    Image<double> out(rows, cols);
    check(cudaMemcpyAsync(out.data(), result, n * sizeof(double), cudaMemcpyDeviceToHost, w.stream), "download of the result");
    ev.mark(3, w.stream);
    check(cudaStreamSynchronize(w.stream), "Richardson-Lucy on the device");
    record_timing("deconvolve", ev.times());
    return out;
}

template <class T>
void deconvolve_batch_cuda(std::size_t count, const std::function<Image<double>(std::size_t)>& load, const Image<double>& psf, int iterations,
                           bool clip_negative, const std::function<void(std::size_t, Image<double>&&)>& store) {
    if (count == 0) return;
    Image<double> first = load(0);
    check_deconvolve_inputs(first, psf, iterations);
    const std::size_t rows = first.rows(), cols = first.cols(), n = rows * cols;
    State& st = state();
    std::lock_guard lock(st.mu);
    const Prepared prep = prepare<T>(st, rows, cols, 2, iterations > 0 ? &psf : nullptr);
    RlWorkspace<T>* w[2] = {workspaces<T>(st)[0].get(), workspaces<T>(st)[1].get()};
    for (auto* x : w) x->ensure_pinned();
    auto load_checked = [&](std::size_t k) {
        Image<double> img = k == 0 ? std::move(first) : load(k);
        if (img.rows() != rows || img.cols() != cols)
            throw Error(ErrorKind::bad_value,
                        "cuda batch: image " + std::to_string(k) + " is " + std::to_string(img.cols()) + "x" + std::to_string(img.rows()) +
                            " but the batch is " + std::to_string(cols) + "x" + std::to_string(rows) + " (one PSF, one shape)");
        return img;
    };
    auto submit = [&](int s, std::size_t, Image<double>&& img) {
        std::memcpy(w[s]->pin_in.get(), img.data(), n * sizeof(double));
        check(cudaMemcpyAsync(w[s]->upload_target(), w[s]->pin_in.get(), n * sizeof(double), cudaMemcpyHostToDevice, w[s]->stream), "upload (batch)");
        const double* result = enqueue_rl<T>(*w[s], prep.H, iterations, clip_negative);
        check(cudaMemcpyAsync(w[s]->pin_out.get(), result, n * sizeof(double), cudaMemcpyDeviceToHost, w[s]->stream), "download (batch)");
    };
    auto finish = [&](int s, std::size_t k) {
        check(cudaStreamSynchronize(w[s]->stream), "Richardson-Lucy on the device (batch)");
        Image<double> out(rows, cols);
        std::memcpy(out.data(), w[s]->pin_out.get(), n * sizeof(double));
        store(k, std::move(out));
    };
    run_two_slot_pipeline(count, load_checked, submit, finish);
}

SpectrumCacheStats spectrum_cache_stats() {
    State& st = state();
    std::lock_guard lock(st.mu);
    if (!st.cache) return {};
    return {st.cache->size(), st.cache->bytes(), st.cache->hits(), st.cache->misses(), st.cache->evictions()};
}

void release_deconvolve_cache() {
    State& st = state();
    std::lock_guard lock(st.mu);
    if (st.cache) st.cache->clear();
    for (auto& w : st.ws64) w.reset();
    for (auto& w : st.ws32) w.reset();
}

template Image<double> deconvolve_cuda<double>(const Image<double>&, const Image<double>&, const DeconvolveRequest&);
template Image<double> deconvolve_cuda<float>(const Image<double>&, const Image<double>&, const DeconvolveRequest&);
template void deconvolve_batch_cuda<double>(std::size_t, const std::function<Image<double>(std::size_t)>&, const Image<double>&, int, bool,
                                            const std::function<void(std::size_t, Image<double>&&)>&);
template void deconvolve_batch_cuda<float>(std::size_t, const std::function<Image<double>(std::size_t)>&, const Image<double>&, int, bool,
                                           const std::function<void(std::size_t, Image<double>&&)>&);

}  // namespace aiaccel::cuda
