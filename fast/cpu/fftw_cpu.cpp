// FFTW glue for the fast CPU backend (see fftw_cpu.hpp).
#include "fast/cpu/fftw_cpu.hpp"

#include <cstdlib>
#include <map>
#include <tuple>
#include <string>

#include "core/error.hpp"

namespace aiaccel::cpu {

std::mutex& fftw_planner_mutex() {
    static std::mutex m;
    return m;
}

void fftw_threads_init_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (!fftw_init_threads() || !fftwf_init_threads()) throw Error(ErrorKind::internal, "cpu: FFTW threads failed to initialise");
    });
}

unsigned fftw_planner_flags() {
    const char* e = std::getenv("AIACCEL_FFTW_PLANNER");
    if (e && std::string(e) == "estimate") return FFTW_ESTIMATE;
    return FFTW_MEASURE;
}

template <class T, class E>
FftwBuffer<T, E> fftw_buffer(std::size_t n) {
    auto* p = static_cast<E*>(Fftw<T>::malloc(sizeof(E) * n));
    if (!p) throw Error(ErrorKind::internal, "cpu: out of memory for FFT buffers");
    return FftwBuffer<T, E>(p);
}
template FftwBuffer<double, double> fftw_buffer<double, double>(std::size_t);
template FftwBuffer<double, std::complex<double>> fftw_buffer<double, std::complex<double>>(std::size_t);
template FftwBuffer<float, float> fftw_buffer<float, float>(std::size_t);
template FftwBuffer<float, std::complex<float>> fftw_buffer<float, std::complex<float>>(std::size_t);

template <class T>
RealFftPlans<T>::RealFftPlans(std::size_t rows, std::size_t cols, int threads) : rows_(rows), cols_(cols), threads_(threads) {
    fftw_threads_init_once();
    // Plan on scratch buffers: FFTW_MEASURE overwrites them while timing.
    auto real = fftw_buffer<T, T>(rows * cols);
    auto spec = fftw_buffer<T, std::complex<T>>(rows * half_cols());
    auto* s = reinterpret_cast<typename Fftw<T>::cplx*>(spec.get());
    std::lock_guard lock(fftw_planner_mutex());
    Fftw<T>::plan_with_nthreads(threads);
    const unsigned f = fftw_planner_flags();
    fwd_ = Fftw<T>::r2c(int(rows), int(cols), real.get(), s, f);
    inv_ = Fftw<T>::c2r(int(rows), int(cols), s, real.get(), f);
    if (!fwd_ || !inv_) throw Error(ErrorKind::internal, "cpu: FFTW could not make a plan");
}

template <class T>
RealFftPlans<T>::~RealFftPlans() {
    std::lock_guard lock(fftw_planner_mutex());
    if (fwd_) Fftw<T>::destroy(fwd_);
    if (inv_) Fftw<T>::destroy(inv_);
}

template <class T>
void RealFftPlans<T>::forward(T* in, std::complex<T>* out) const {
    Fftw<T>::exec_r2c(fwd_, in, reinterpret_cast<typename Fftw<T>::cplx*>(out));
}
template <class T>
void RealFftPlans<T>::inverse(std::complex<T>* in, T* out) const {
    Fftw<T>::exec_c2r(inv_, reinterpret_cast<typename Fftw<T>::cplx*>(in), out);
}

template class RealFftPlans<double>;
template class RealFftPlans<float>;

template <class T>
const RealFftPlans<T>& cached_plans(std::size_t rows, std::size_t cols, int threads) {
    static std::mutex m;
    static std::map<std::tuple<std::size_t, std::size_t, int>, std::unique_ptr<RealFftPlans<T>>> cache;
    std::lock_guard lock(m);
    auto& slot = cache[{rows, cols, threads}];
    if (!slot) slot = std::make_unique<RealFftPlans<T>>(rows, cols, threads);
    return *slot;
}
template const RealFftPlans<double>& cached_plans<double>(std::size_t, std::size_t, int);
template const RealFftPlans<float>& cached_plans<float>(std::size_t, std::size_t, int);

}  // namespace aiaccel::cpu
