// FFTW glue for the fast CPU backend (see fftw_cpu.hpp).
#include "fast/cpu/fftw_cpu.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <cstdlib>
#include <algorithm>
#include <new>
#include <string>

#include "core/cache_dir.hpp"
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

namespace {
// $AIACCEL_FFTW_WISDOM ("off": none), else <cache_root()>/fftw/wisdom-<host> next to the PSF cache:
// wisdom describes one machine's fastest plans, so each host keeps its own.
const char* wisdom_file() {
    static const std::string file = [] {
        const char* w = std::getenv("AIACCEL_FFTW_WISDOM");
        if (w && *w) return std::string(w) == "off" ? std::string() : std::string(w);
        const std::filesystem::path root = cache_root();
        if (root.empty()) return std::string();
        char host[256] = {};
        if (gethostname(host, sizeof host - 1) != 0 || !*host) std::snprintf(host, sizeof host, "%s", "localhost");
        std::error_code ec;
        std::filesystem::create_directories(root / "fftw", ec);
        return (root / "fftw" / (std::string("wisdom-") + host)).string();
    }();
    return file.empty() ? nullptr : file.c_str();
}
// Called with the planner lock held.
void import_wisdom_once() {
    static bool done = false;
    if (done) return;
    done = true;
    if (const char* w = wisdom_file()) {  // a missing or unreadable file just means no wisdom yet
        (void)fftw_import_wisdom_from_filename(w);
        (void)fftwf_import_wisdom_from_filename((std::string(w) + ".f32").c_str());
    }
}
// Written to a temporary name and renamed, so a reader never sees half a wisdom file.
void export_wisdom() {
    if (const char* w = wisdom_file()) {
        const std::string f64 = w, f32 = f64 + ".f32", tmp = fmt::format(".tmp{}", static_cast<long>(getpid()));
        if (fftw_export_wisdom_to_filename((f64 + tmp).c_str())) (void)std::rename((f64 + tmp).c_str(), f64.c_str());
        if (fftwf_export_wisdom_to_filename((f32 + tmp).c_str())) (void)std::rename((f32 + tmp).c_str(), f32.c_str());
    }
}
}  // namespace

bool fftw_wisdom_enabled() { return wisdom_file() != nullptr; }

template <class T, class E>
FftwBuffer<T, E> fftw_buffer(std::size_t n) {
    try {
        return FftwBuffer<T, E>(static_cast<E*>(frame_alloc(sizeof(E) * n)), FftwDeleter{sizeof(E) * n});
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::internal, fmt::format("cpu: out of memory for an FFT buffer of {} MiB", (sizeof(E) * n) >> 20));
    }
}
template FftwBuffer<double, double> fftw_buffer<double, double>(std::size_t);
template FftwBuffer<double, std::complex<double>> fftw_buffer<double, std::complex<double>>(std::size_t);
template FftwBuffer<float, float> fftw_buffer<float, float>(std::size_t);
template FftwBuffer<float, std::complex<float>> fftw_buffer<float, std::complex<float>>(std::size_t);

template <class T>
FftwRealPlans<T>::FftwRealPlans(std::size_t rows, std::size_t cols, int threads, unsigned planner_flags) : RealFft<T>(rows, cols, threads) {
    fftw_threads_init_once();
    // Plan on scratch buffers: FFTW_MEASURE overwrites them while timing.
    auto real = fftw_buffer<T, T>(rows * cols);
    auto spec = fftw_buffer<T, std::complex<T>>(rows * this->half_cols());
    auto* s = reinterpret_cast<typename Fftw<T>::cplx*>(spec.get());
    std::lock_guard lock(fftw_planner_mutex());
    import_wisdom_once();
    Fftw<T>::plan_with_nthreads(threads);
    fwd_ = Fftw<T>::r2c(int(rows), int(cols), real.get(), s, planner_flags);
    inv_ = Fftw<T>::c2r(int(rows), int(cols), s, real.get(), planner_flags);
    if (!fwd_ || !inv_) throw Error(ErrorKind::internal, "cpu: FFTW could not make a plan");
    if (!(planner_flags & FFTW_ESTIMATE)) export_wisdom();
}

template <class T>
FftwRealPlans<T>::~FftwRealPlans() {
    std::lock_guard lock(fftw_planner_mutex());
    if (fwd_) Fftw<T>::destroy(fwd_);
    if (inv_) Fftw<T>::destroy(inv_);
}

template <class T>
void FftwRealPlans<T>::forward(T* in, std::complex<T>* out) const {
    Fftw<T>::exec_r2c(fwd_, in, reinterpret_cast<typename Fftw<T>::cplx*>(out));
}
template <class T>
void FftwRealPlans<T>::inverse(std::complex<T>* in, T* out) const {
    Fftw<T>::exec_c2r(inv_, reinterpret_cast<typename Fftw<T>::cplx*>(in), out);
}

template class FftwRealPlans<double>;
template class FftwRealPlans<float>;

template <class T>
FftwSplitPlans<T>::FftwSplitPlans(std::size_t rows, std::size_t cols, std::size_t block, unsigned planner_flags) : SplitFft<T>(block) {
    fftw_threads_init_once();  // plan_with_nthreads needs it
    auto real = fftw_buffer<T, T>(cols);
    auto spec = fftw_buffer<T, std::complex<T>>(std::max(cols / 2 + 1, rows * block));
    auto* s = reinterpret_cast<typename Fftw<T>::cplx*>(spec.get());
    std::lock_guard lock(fftw_planner_mutex());
    import_wisdom_once();
    Fftw<T>::plan_with_nthreads(1);
    r2c_ = Fftw<T>::r2c_1d(int(cols), real.get(), s, planner_flags);
    c2r_ = Fftw<T>::c2r_1d(int(cols), s, real.get(), planner_flags);
    fwd_ = Fftw<T>::many(int(rows), int(block), s, int(block), FFTW_FORWARD, planner_flags);
    inv_ = Fftw<T>::many(int(rows), int(block), s, int(block), FFTW_BACKWARD, planner_flags);
    if (!r2c_ || !c2r_ || !fwd_ || !inv_) throw Error(ErrorKind::internal, "cpu: FFTW could not make a plan");
    if (!(planner_flags & FFTW_ESTIMATE)) export_wisdom();
}

template <class T>
FftwSplitPlans<T>::~FftwSplitPlans() {
    std::lock_guard lock(fftw_planner_mutex());
    for (auto p : {r2c_, c2r_, fwd_, inv_})
        if (p) Fftw<T>::destroy(p);
}

template <class T>
void FftwSplitPlans<T>::row_forward(T* in, std::complex<T>* out) const {
    Fftw<T>::exec_r2c(r2c_, in, reinterpret_cast<typename Fftw<T>::cplx*>(out));
}
template <class T>
void FftwSplitPlans<T>::row_inverse(std::complex<T>* in, T* out) const {
    Fftw<T>::exec_c2r(c2r_, reinterpret_cast<typename Fftw<T>::cplx*>(in), out);
}
template <class T>
void FftwSplitPlans<T>::col_forward(std::complex<T>* io) const {
    Fftw<T>::exec_dft(fwd_, reinterpret_cast<typename Fftw<T>::cplx*>(io));
}
template <class T>
void FftwSplitPlans<T>::col_inverse(std::complex<T>* io) const {
    Fftw<T>::exec_dft(inv_, reinterpret_cast<typename Fftw<T>::cplx*>(io));
}

template class FftwSplitPlans<double>;
template class FftwSplitPlans<float>;

}  // namespace aiaccel::cpu
