// FFTW glue for the fast CPU backend (the default provider of fft_provider.hpp): one traits template over float64 (fftw_*) and float32
// (fftwf_*), FFTW's threads initialised once, a process-wide planner lock (FFTW's planner is not
// thread-safe), aligned buffers, and the planner effort (FFTW_MEASURE by default;
// AIACCEL_FFTW_PLANNER=estimate picks FFTW_ESTIMATE, whose plans do not depend on timing).
// Wisdom is imported from a file before the first plan (if it exists) and written back after each
// new plan, so FFTW_MEASURE runs once per machine and later runs reuse the same plans (hence the
// same round-off): AIACCEL_FFTW_WISDOM=FILE, default ~/.cache/aiaccel/fftw/wisdom-<host> (beside
// the PSF cache), AIACCEL_FFTW_WISDOM=off for none.
#pragma once

#include <fftw3.h>

#include <complex>
#include <cstddef>
#include <memory>
#include <mutex>

#include "core/frame_pool.hpp"
#include "fast/cpu/fft_provider.hpp"

namespace aiaccel::cpu {

std::mutex& fftw_planner_mutex();
void fftw_threads_init_once();  // fftw_init_threads + fftwf_init_threads, once per process
unsigned fftw_planner_flags();  // FFTW_MEASURE unless AIACCEL_FFTW_PLANNER=estimate
bool fftw_wisdom_enabled();  // a wisdom file is in use (not AIACCEL_FFTW_WISDOM=off, a cache folder exists)

template <class T>
struct Fftw;
template <>
struct Fftw<double> {
    using plan = fftw_plan;
    using cplx = fftw_complex;
    static void plan_with_nthreads(int n) { fftw_plan_with_nthreads(n); }
    static plan r2c(int r, int c, double* in, cplx* out, unsigned f) { return fftw_plan_dft_r2c_2d(r, c, in, out, f); }
    static plan c2r(int r, int c, cplx* in, double* out, unsigned f) { return fftw_plan_dft_c2r_2d(r, c, in, out, f); }
    static void exec_r2c(plan p, double* in, cplx* out) { fftw_execute_dft_r2c(p, in, out); }
    static void exec_c2r(plan p, cplx* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
    static plan r2c_1d(int n, double* in, cplx* out, unsigned f) { return fftw_plan_dft_r2c_1d(n, in, out, f); }
    static plan c2r_1d(int n, cplx* in, double* out, unsigned f) { return fftw_plan_dft_c2r_1d(n, in, out, f); }
    static plan many(int n, int howmany, cplx* io, int stride, int sign, unsigned f) {
        return fftw_plan_many_dft(1, &n, howmany, io, nullptr, stride, 1, io, nullptr, stride, 1, sign, f);
    }
    static void exec_dft(plan p, cplx* io) { fftw_execute_dft(p, io, io); }
    static void destroy(plan p) { fftw_destroy_plan(p); }
};
template <>
struct Fftw<float> {
    using plan = fftwf_plan;
    using cplx = fftwf_complex;
    static void plan_with_nthreads(int n) { fftwf_plan_with_nthreads(n); }
    static plan r2c(int r, int c, float* in, cplx* out, unsigned f) { return fftwf_plan_dft_r2c_2d(r, c, in, out, f); }
    static plan c2r(int r, int c, cplx* in, float* out, unsigned f) { return fftwf_plan_dft_c2r_2d(r, c, in, out, f); }
    static void exec_r2c(plan p, float* in, cplx* out) { fftwf_execute_dft_r2c(p, in, out); }
    static void exec_c2r(plan p, cplx* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
    static plan r2c_1d(int n, float* in, cplx* out, unsigned f) { return fftwf_plan_dft_r2c_1d(n, in, out, f); }
    static plan c2r_1d(int n, cplx* in, float* out, unsigned f) { return fftwf_plan_dft_c2r_1d(n, in, out, f); }
    static plan many(int n, int howmany, cplx* io, int stride, int sign, unsigned f) {
        return fftwf_plan_many_dft(1, &n, howmany, io, nullptr, stride, 1, io, nullptr, stride, 1, sign, f);
    }
    static void exec_dft(plan p, cplx* io) { fftwf_execute_dft(p, io, io); }
    static void destroy(plan p) { fftwf_destroy_plan(p); }
};

struct FftwDeleter {
    std::size_t bytes = 0;
    void operator()(void* p) const noexcept { frame_free(p, bytes); }
};
template <class T, class E = T>
using FftwBuffer = std::unique_ptr<E[], FftwDeleter>;
// n elements from core/frame_pool (64-byte aligned, beyond FFTW's SIMD alignment; contents indeterminate);
// Error(internal) when out of memory. T is the FFT's precision (kept for the callers' spelling).
template <class T, class E = T>
FftwBuffer<T, E> fftw_buffer(std::size_t n);

// FFTW's implementations of the provider seam (fft_provider.hpp), made with the planner locked and
// executed through the new-array execute functions. The 2-D pair runs on FFTW's threads; the split
// plans are single-threaded.
template <class T>
class FftwRealPlans final : public RealFft<T> {
public:
    FftwRealPlans(std::size_t rows, std::size_t cols, int threads, unsigned planner_flags);
    ~FftwRealPlans() override;
    FftwRealPlans(const FftwRealPlans&) = delete;
    FftwRealPlans& operator=(const FftwRealPlans&) = delete;
    void forward(T* in, std::complex<T>* out) const override;
    void inverse(std::complex<T>* in, T* out) const override;  // destroys its input, as FFTW's c2r always does

private:
    typename Fftw<T>::plan fwd_{}, inv_{};
};

template <class T>
class FftwSplitPlans final : public SplitFft<T> {
public:
    FftwSplitPlans(std::size_t rows, std::size_t cols, std::size_t block, unsigned planner_flags);
    ~FftwSplitPlans() override;
    FftwSplitPlans(const FftwSplitPlans&) = delete;
    FftwSplitPlans& operator=(const FftwSplitPlans&) = delete;
    void row_forward(T* in, std::complex<T>* out) const override;
    void row_inverse(std::complex<T>* in, T* out) const override;
    void col_forward(std::complex<T>* io) const override;
    void col_inverse(std::complex<T>* io) const override;

private:
    typename Fftw<T>::plan r2c_{}, c2r_{}, fwd_{}, inv_{};
};

}  // namespace aiaccel::cpu
