// Process-wide cache of cuFFT plans, one per PlanKey (size, precision, r2c/c2r, stream slot):
// planning a 4096² transform costs milliseconds and a work area, so each is made once and reused by
// every later call on that stream. Included by .cu files only; callers hold their stage's lock.
#pragma once

#include <cufft.h>

#include <mutex>
#include <unordered_map>

#include "fast/cuda/cuda_host.hpp"
#include "fast/cuda/cuda_util.cuh"

namespace aiaccel::cuda {

inline cufftType cufft_type(Precision p, FftKind k) {
    if (p == Precision::f64) return k == FftKind::r2c ? CUFFT_D2Z : CUFFT_Z2D;
    return k == FftKind::r2c ? CUFFT_R2C : CUFFT_C2R;
}

// The plan for key, bound to `stream`; made on first use.
inline cufftHandle cached_plan(const PlanKey& key, cudaStream_t stream) {
    // Never destroyed: cufftDestroy from a static destructor can run after the CUDA runtime has shut
    // down; the driver frees everything at process exit.
    static std::mutex mu;
    static auto& plans = *new std::unordered_map<PlanKey, FftPlan, PlanKeyHash>();
    std::lock_guard lock(mu);
    auto it = plans.find(key);
    if (it == plans.end()) {
        cufftHandle h{};
        check_fft(cufftPlan2d(&h, static_cast<int>(key.rows), static_cast<int>(key.cols), cufft_type(key.precision, key.kind)), "cufftPlan2d");
        it = plans.emplace(key, FftPlan(h)).first;
    }
    check_fft(cufftSetStream(it->second.get(), stream), "cufftSetStream");
    return it->second.get();
}

// Typed execution: r2c / c2r in T (the c2r destroys its input, as FFTW's does).
inline void exec_r2c(cufftHandle h, double* in, cufftDoubleComplex* out) { check_fft(cufftExecD2Z(h, in, out), "ExecD2Z"); }
inline void exec_r2c(cufftHandle h, float* in, cufftComplex* out) { check_fft(cufftExecR2C(h, in, out), "ExecR2C"); }
inline void exec_c2r(cufftHandle h, cufftDoubleComplex* in, double* out) { check_fft(cufftExecZ2D(h, in, out), "ExecZ2D"); }
inline void exec_c2r(cufftHandle h, cufftComplex* in, float* out) { check_fft(cufftExecC2R(h, in, out), "ExecC2R"); }

template <class T>
struct ComplexOf;
template <>
struct ComplexOf<double> {
    using type = cufftDoubleComplex;
};
template <>
struct ComplexOf<float> {
    using type = cufftComplex;
};
template <class T>
using Complex = typename ComplexOf<T>::type;
template <class T>
constexpr Precision precision_of() {
    return sizeof(T) == 8 ? Precision::f64 : Precision::f32;
}

}  // namespace aiaccel::cuda
