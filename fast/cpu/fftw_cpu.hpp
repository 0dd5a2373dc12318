// FFTW glue for the fast CPU backend: one traits template over float64 (fftw_*) and float32
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

namespace aiaccel::cpu {

std::mutex& fftw_planner_mutex();
void fftw_threads_init_once();   // fftw_init_threads + fftwf_init_threads, once per process
unsigned fftw_planner_flags();   // FFTW_MEASURE unless AIACCEL_FFTW_PLANNER=estimate
bool fftw_wisdom_enabled();      // a wisdom file is in use (not AIACCEL_FFTW_WISDOM=off, a cache folder exists)

template <class T> struct Fftw;
template <> struct Fftw<double> {
    using plan = fftw_plan;
    using cplx = fftw_complex;
    static void plan_with_nthreads(int n) { fftw_plan_with_nthreads(n); }
    static plan r2c(int r, int c, double* in, cplx* out, unsigned f) { return fftw_plan_dft_r2c_2d(r, c, in, out, f); }
    static plan c2r(int r, int c, cplx* in, double* out, unsigned f) { return fftw_plan_dft_c2r_2d(r, c, in, out, f); }
    static void exec_r2c(plan p, double* in, cplx* out) { fftw_execute_dft_r2c(p, in, out); }
    static void exec_c2r(plan p, cplx* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
    static void destroy(plan p) { fftw_destroy_plan(p); }
};
template <> struct Fftw<float> {
    using plan = fftwf_plan;
    using cplx = fftwf_complex;
    static void plan_with_nthreads(int n) { fftwf_plan_with_nthreads(n); }
    static plan r2c(int r, int c, float* in, cplx* out, unsigned f) { return fftwf_plan_dft_r2c_2d(r, c, in, out, f); }
    static plan c2r(int r, int c, cplx* in, float* out, unsigned f) { return fftwf_plan_dft_c2r_2d(r, c, in, out, f); }
    static void exec_r2c(plan p, float* in, cplx* out) { fftwf_execute_dft_r2c(p, in, out); }
    static void exec_c2r(plan p, cplx* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
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

// A 2-D r2c and c2r plan pair for rows×cols in precision T, made once (planner locked) and executed
// on any buffers of the same size and alignment through the new-array execute functions.
// The c2r is unnormalised (×rows·cols) and destroys its input, as FFTW's c2r always does.
template <class T>
class RealFftPlans {
public:
    RealFftPlans(std::size_t rows, std::size_t cols, int threads, unsigned planner_flags);
    ~RealFftPlans();
    RealFftPlans(const RealFftPlans&) = delete;
    RealFftPlans& operator=(const RealFftPlans&) = delete;
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t half_cols() const { return cols_ / 2 + 1; }
    int threads() const { return threads_; }
    void forward(T* in, std::complex<T>* out) const;
    void inverse(std::complex<T>* in, T* out) const;

private:
    std::size_t rows_, cols_;
    int threads_;
    typename Fftw<T>::plan fwd_{}, inv_{};
};

// The plans for (T, rows, cols, threads, flags), made on first use and kept for the life of the
// process. flags default: fftw_planner_flags().
template <class T>
const RealFftPlans<T>& cached_plans(std::size_t rows, std::size_t cols, int threads, unsigned planner_flags);
template <class T>
const RealFftPlans<T>& cached_plans(std::size_t rows, std::size_t cols, int threads) {
    return cached_plans<T>(rows, cols, threads, fftw_planner_flags());
}

}  // namespace aiaccel::cpu
