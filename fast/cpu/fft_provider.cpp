// The FFT provider seam (see fft_provider.hpp): the choice, auto's per-precision pick, and the plan caches.
#include "fast/cpu/fft_provider.hpp"

#include <cstdlib>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "aiaccel_config.hpp"
#include "core/error.hpp"
#include "fast/cpu/fftw_cpu.hpp"
#include "fast/cpu/mkl_cpu.hpp"

namespace aiaccel::cpu {
namespace {

// auto: the provider `aiaccel bench --stages deconvolve,floors --fft fftw,mkl` measured faster per
// precision on the project's machine (docs/architecture.md §2.1 gives the figures: float64 FFTW,
// float32 MKL); FFTW where MKL is not built.
FftProvider auto_provider(Precision p) {
    const FftProvider measured = p == Precision::f64 ? FftProvider::fftw : FftProvider::mkl;
    return fft_provider_built(measured) ? measured : FftProvider::fftw;
}

FftProvider parse_choice(std::string_view c, Precision p) {
    if (c == "auto") return auto_provider(p);
    if (c == "fftw") return FftProvider::fftw;
    if (c == "mkl") {
        if (!fft_provider_built(FftProvider::mkl))
            throw Error(ErrorKind::usage,
                        "FFT provider mkl: not built here (run tools/mkl-setup, then meson setup --reconfigure build -Dmkl=enabled)");
        return FftProvider::mkl;
    }
    throw Error(ErrorKind::usage, fmt::format("FFT provider '{}': expected fftw, mkl or auto (--fft, AIACCEL_FFT)", c));
}

}  // namespace

std::string_view to_string(FftProvider p) { return p == FftProvider::mkl ? "mkl" : "fftw"; }

bool fft_provider_built(FftProvider p) { return p == FftProvider::fftw || AIACCEL_HAVE_MKL; }

std::string fft_provider_version(FftProvider p) {
    if (p == FftProvider::mkl) return mkl_version();
    const std::string v = fftw_version;  // "fftw-3.3.10-sse2-avx"
    const auto a = v.find('-'), b = v.find('-', a + 1);
    return a == std::string::npos ? v : v.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
}

void check_fft_choice(std::string_view choice) { (void)parse_choice(choice, Precision::f64); }

void set_fft_choice(std::string_view choice) {
    check_fft_choice(choice);
    setenv("AIACCEL_FFT", std::string(choice).c_str(), 1);
}

std::string fft_choice() {
    const char* e = std::getenv("AIACCEL_FFT");
    return e && *e ? std::string(e) : std::string("auto");
}

FftProvider fft_provider(Precision p) { return parse_choice(fft_choice(), p); }

std::string fft_label(Precision p) {
    const FftProvider f = fft_provider(p);
    return fmt::format("{} {}", to_string(f), fft_provider_version(f));
}

template <class T>
std::unique_ptr<RealFft<T>> make_real_fft(FftProvider f, std::size_t rows, std::size_t cols, int threads, unsigned planner_flags) {
    if (f == FftProvider::mkl) return make_mkl_real_fft<T>(rows, cols, threads);
    return std::make_unique<FftwRealPlans<T>>(rows, cols, threads, planner_flags);
}
template std::unique_ptr<RealFft<double>> make_real_fft<double>(FftProvider, std::size_t, std::size_t, int, unsigned);
template std::unique_ptr<RealFft<float>> make_real_fft<float>(FftProvider, std::size_t, std::size_t, int, unsigned);

template <class T>
const RealFft<T>& cached_plans(std::size_t rows, std::size_t cols, int threads, unsigned planner_flags) {
    static std::mutex m;
    static std::map<std::tuple<FftProvider, std::size_t, std::size_t, int, unsigned>, std::unique_ptr<RealFft<T>>> cache;
    const FftProvider f = fft_provider(precision_of<T>);
    std::lock_guard lock(m);
    auto& slot = cache[{f, rows, cols, threads, f == FftProvider::fftw ? planner_flags : 0u}];
    if (!slot) slot = make_real_fft<T>(f, rows, cols, threads, planner_flags);
    return *slot;
}
template const RealFft<double>& cached_plans<double>(std::size_t, std::size_t, int, unsigned);
template const RealFft<float>& cached_plans<float>(std::size_t, std::size_t, int, unsigned);

template <class T>
const RealFft<T>& cached_plans(std::size_t rows, std::size_t cols, int threads) {
    return cached_plans<T>(rows, cols, threads, fftw_planner_flags());
}
template const RealFft<double>& cached_plans<double>(std::size_t, std::size_t, int);
template const RealFft<float>& cached_plans<float>(std::size_t, std::size_t, int);

template <class T>
const SplitFft<T>& cached_split_plans(std::size_t rows, std::size_t cols, std::size_t block, unsigned planner_flags) {
    static std::mutex m;
    static std::map<std::tuple<FftProvider, std::size_t, std::size_t, std::size_t, unsigned>, std::unique_ptr<SplitFft<T>>> cache;
    const FftProvider f = fft_provider(precision_of<T>);
    std::lock_guard lock(m);
    auto& slot = cache[{f, rows, cols, block, f == FftProvider::fftw ? planner_flags : 0u}];
    if (!slot)
        slot = f == FftProvider::fftw ? std::unique_ptr<SplitFft<T>>(std::make_unique<FftwSplitPlans<T>>(rows, cols, block, planner_flags))
                                      : make_mkl_split_fft<T>(rows, cols, block);
    return *slot;
}
template const SplitFft<double>& cached_split_plans<double>(std::size_t, std::size_t, std::size_t, unsigned);
template const SplitFft<float>& cached_split_plans<float>(std::size_t, std::size_t, std::size_t, unsigned);

}  // namespace aiaccel::cpu
