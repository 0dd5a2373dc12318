// The FFT provider seam of the cpu backend (docs/architecture.md §2.1): every transform the cpu
// backend makes goes through the two plan interfaces below, implemented by FFTW (fftw_cpu.hpp, the
// default, always built) and by Intel oneMKL DFTI (mkl_cpu.hpp, built with -Dmkl when tools/mkl-setup
// has installed it). The provider is chosen per process and per precision: AIACCEL_FFT=fftw|mkl|auto
// (the CLI's --fft sets it, so prep's worker inherits it); auto picks, per precision, the provider the
// bench measured fastest (fft_provider.cpp). Plans are made once per (provider, precision, size,
// threads, planner flags) and kept for the life of the process.
#pragma once

#include <complex>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/backend.hpp"

namespace aiaccel::cpu {

enum class FftProvider { fftw, mkl };
std::string_view to_string(FftProvider p);  // "fftw", "mkl"
bool fft_provider_built(FftProvider p);  // mkl: only in builds configured with MKL
std::string fft_provider_version(FftProvider p);  // "3.3.10", "2025.3.0"

// Sets the process's choice ("fftw", "mkl" or "auto") by setting AIACCEL_FFT. Error(usage) for any
// other word, or for "mkl" in a build without MKL.
void set_fft_choice(std::string_view choice);
void check_fft_choice(std::string_view choice);  // the same checks, nothing set
std::string fft_choice();  // AIACCEL_FFT, "auto" when unset
// The provider a transform in precision p uses now (AIACCEL_FFT, auto resolved); Error(usage) when
// AIACCEL_FFT is not a provider built here.
FftProvider fft_provider(Precision p);
std::string fft_label(Precision p);  // "mkl 2025.3.0": what result rows record

template <class T>
constexpr Precision precision_of = sizeof(T) == 8 ? Precision::f64 : Precision::f32;

// A 2-D r2c and c2r pair for rows×cols, executed on any buffers of that size (64-byte aligned,
// fftw_buffer). The c2r is unnormalised (×rows·cols) and may destroy its input.
template <class T>
class RealFft {
public:
    virtual ~RealFft() = default;
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t half_cols() const { return cols_ / 2 + 1; }
    int threads() const { return threads_; }
    virtual void forward(T* in, std::complex<T>* out) const = 0;
    virtual void inverse(std::complex<T>* in, T* out) const = 0;

protected:
    RealFft(std::size_t rows, std::size_t cols, int threads) : rows_(rows), cols_(cols), threads_(threads) {}
    std::size_t rows_, cols_;
    int threads_;
};

// A 2-D real FFT of rows×cols split into its 1-D passes, so callers can do pointwise work while a row
// or a block of columns is in cache (the fused Richardson–Lucy): 2-D r2c = row r2c then column
// forward c2c; 2-D c2r = column backward c2c then row c2r (unnormalised). Single-threaded plans that
// callers run concurrently from their own threads, so every row and column sees the same plan
// whatever the thread count.
template <class T>
class SplitFft {
public:
    virtual ~SplitFft() = default;
    std::size_t block() const { return block_; }
    virtual void row_forward(T* in, std::complex<T>* out) const = 0;  // cols reals → cols/2+1 complex
    virtual void row_inverse(std::complex<T>* in, T* out) const = 0;  // cols/2+1 complex (may be destroyed) → cols reals
    // In place on rows×block complex, interleaved (element (r, c) at r·block + c): block column transforms.
    virtual void col_forward(std::complex<T>* io) const = 0;
    virtual void col_inverse(std::complex<T>* io) const = 0;

protected:
    explicit SplitFft(std::size_t block) : block_(block) {}
    std::size_t block_;
};

// New plans of provider f, not cached (bench times their making).
template <class T>
std::unique_ptr<RealFft<T>> make_real_fft(FftProvider f, std::size_t rows, std::size_t cols, int threads, unsigned planner_flags);
// The plans of the current provider for precision T (planner_flags: FFTW's, ignored by MKL).
template <class T>
const RealFft<T>& cached_plans(std::size_t rows, std::size_t cols, int threads, unsigned planner_flags);
template <class T>
const RealFft<T>& cached_plans(std::size_t rows, std::size_t cols, int threads);  // FFTW flags: fftw_planner_flags()
template <class T>
const SplitFft<T>& cached_split_plans(std::size_t rows, std::size_t cols, std::size_t block, unsigned planner_flags);

}  // namespace aiaccel::cpu
