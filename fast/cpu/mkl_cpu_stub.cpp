// mkl_cpu.hpp in a build without MKL: every call says how to get one.
#include "fast/cpu/mkl_cpu.hpp"

#include "core/error.hpp"

namespace aiaccel::cpu {
namespace {
[[noreturn]] void not_built() {
    throw Error(ErrorKind::usage, "cpu: FFT provider mkl: not built (run tools/mkl-setup, then meson setup --reconfigure build -Dmkl=enabled)");
}
}  // namespace

template <class T>
std::unique_ptr<RealFft<T>> make_mkl_real_fft(std::size_t, std::size_t, int) {
    not_built();
}
template <class T>
std::unique_ptr<SplitFft<T>> make_mkl_split_fft(std::size_t, std::size_t, std::size_t) {
    not_built();
}
template std::unique_ptr<RealFft<double>> make_mkl_real_fft<double>(std::size_t, std::size_t, int);
template std::unique_ptr<RealFft<float>> make_mkl_real_fft<float>(std::size_t, std::size_t, int);
template std::unique_ptr<SplitFft<double>> make_mkl_split_fft<double>(std::size_t, std::size_t, std::size_t);
template std::unique_ptr<SplitFft<float>> make_mkl_split_fft<float>(std::size_t, std::size_t, std::size_t);
std::string mkl_version() { return ""; }

}  // namespace aiaccel::cpu
