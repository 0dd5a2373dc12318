// Small CUDA utilities shared by the backend's .cu files: checked calls that turn a CUDA or cuFFT
// error into aiaccel::Error (never an abort), RAII device and pinned host buffers, and the free
// device memory as cuda_host.hpp's budgets need it. Included by .cu files only.
#pragma once

#include <cuda_runtime.h>
#include <cufft.h>

#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "fast/cuda/cuda_host.hpp"

namespace aiaccel::cuda {

[[noreturn]] inline void throw_cuda(const char* what, cudaError_t err) {
    cudaGetLastError();  // clear a non-sticky error so the next call starts clean
    throw Error(ErrorKind::internal, std::string("cuda: ") + what + " failed: " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}
inline void check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) throw_cuda(what, err);
}
inline void check_fft(cufftResult r, const char* what) {
    if (r != CUFFT_SUCCESS)
        throw Error(ErrorKind::internal, std::string("cuda: cuFFT ") + what + " failed (cufftResult " + std::to_string(int(r)) + ")");
}
// After a kernel launch: a bad configuration shows up here, a fault at the next synchronisation.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Free and total device memory now, and the device's name (for budget messages).
struct DeviceMemory {
    std::size_t free = 0, total = 0;
    std::string name;
};
inline DeviceMemory device_memory() {
    DeviceMemory m;
    check(cudaMemGetInfo(&m.free, &m.total), "cudaMemGetInfo");
    int dev = 0;
    cudaDeviceProp prop{};
    if (cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
        m.name = prop.name;
    else
        m.name = "the CUDA device";
    return m;
}

template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t n) : n_(n) {
        if (n == 0) return;
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, n * sizeof(T));
        if (e != cudaSuccess) {
            cudaGetLastError();
            throw Error(ErrorKind::unsupported,
                        "cuda: cudaMalloc of " + std::to_string(n * sizeof(T)) + " bytes failed (" + cudaGetErrorString(e) +
                            "): the device is out of memory");
        }
        p_ = static_cast<T*>(p);
    }
    ~DeviceBuffer() {
        if (p_) cudaFree(p_);
    }
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            if (p_) cudaFree(p_);
            p_ = std::exchange(o.p_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    T* get() const { return p_; }
    std::size_t size() const { return n_; }
    std::size_t bytes() const { return n_ * sizeof(T); }

private:
    T* p_ = nullptr;
    std::size_t n_ = 0;
};

// Page-locked host memory: the only kind cudaMemcpyAsync overlaps with kernels.
template <class T>
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    explicit PinnedBuffer(std::size_t n) : n_(n) {
        if (n == 0) return;
        void* p = nullptr;
        check(cudaMallocHost(&p, n * sizeof(T)), "cudaMallocHost (pinned host buffer)");
        p_ = static_cast<T*>(p);
    }
    ~PinnedBuffer() {
        if (p_) cudaFreeHost(p_);
    }
    PinnedBuffer(PinnedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
        if (this != &o) {
            if (p_) cudaFreeHost(p_);
            p_ = std::exchange(o.p_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    T* get() const { return p_; }
    std::size_t size() const { return n_; }

private:
    T* p_ = nullptr;
    std::size_t n_ = 0;
};

// A cuFFT plan handle, destroyed with its owner.
class FftPlan {
public:
    FftPlan() = default;
    explicit FftPlan(cufftHandle h) : h_(h), valid_(true) {}
    ~FftPlan() {
        if (valid_) cufftDestroy(h_);
    }
    FftPlan(FftPlan&& o) noexcept : h_(o.h_), valid_(std::exchange(o.valid_, false)) {}
    FftPlan& operator=(FftPlan&& o) noexcept {
        if (this != &o) {
            if (valid_) cufftDestroy(h_);
            h_ = o.h_;
            valid_ = std::exchange(o.valid_, false);
        }
        return *this;
    }
    FftPlan(const FftPlan&) = delete;
    FftPlan& operator=(const FftPlan&) = delete;
    cufftHandle get() const { return h_; }

private:
    cufftHandle h_{};
    bool valid_ = false;
};

// Four events on a stream around upload / compute / download; times() after the stream is synchronised.
class StageEvents {
public:
    StageEvents() {
        for (auto& e : ev_) check(cudaEventCreate(&e), "cudaEventCreate");
    }
    ~StageEvents() {
        for (auto& e : ev_) cudaEventDestroy(e);
    }
    StageEvents(const StageEvents&) = delete;
    StageEvents& operator=(const StageEvents&) = delete;
    void mark(int i, cudaStream_t s) { check(cudaEventRecord(ev_[i], s), "cudaEventRecord"); }  // 0 start, 1 uploaded, 2 computed, 3 downloaded
    // After the stream is synchronised. An unreadable event (an error on the stream, an event never
    // recorded) gives valid = false, NaN times and the CUDA error, not 0 ms.
    StageTiming times() const {
        StageTiming t;
        double* out[3] = {&t.upload_ms, &t.compute_ms, &t.download_ms};
        for (int i = 0; i < 3; ++i) {
            float ms = 0;
            const cudaError_t e = cudaEventElapsedTime(&ms, ev_[i], ev_[i + 1]);
            if (e != cudaSuccess) {
                cudaGetLastError();
                t.upload_ms = t.compute_ms = t.download_ms = std::numeric_limits<double>::quiet_NaN();
                t.valid = false;
                t.error = std::string("cudaEventElapsedTime: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
                return t;
            }
            *out[i] = ms;
        }
        t.valid = true;
        t.error.clear();
        return t;
    }

private:
    cudaEvent_t ev_[4]{};
};

}  // namespace aiaccel::cuda
