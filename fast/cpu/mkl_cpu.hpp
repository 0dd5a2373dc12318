// Intel oneMKL DFTI implementations of the FFT provider seam (fft_provider.hpp), built only with
// -Dmkl (mkl_cpu.cpp); without it mkl_cpu_stub.cpp makes every call an Error(usage) that says how
// to build it. Descriptors are committed once and then shared by threads (DftiCompute* may run
// concurrently on one committed descriptor). Threads: MKL's GNU OpenMP layer, limited per
// descriptor (DFTI_THREAD_LIMIT): the 2-D pair to its thread count, the split plans to 1.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "fast/cpu/fft_provider.hpp"

namespace aiaccel::cpu {

template <class T>
std::unique_ptr<RealFft<T>> make_mkl_real_fft(std::size_t rows, std::size_t cols, int threads);
template <class T>
std::unique_ptr<SplitFft<T>> make_mkl_split_fft(std::size_t rows, std::size_t cols, std::size_t block);
std::string mkl_version();  // "2025.3"

}  // namespace aiaccel::cpu
