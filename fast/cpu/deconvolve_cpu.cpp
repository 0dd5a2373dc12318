// Fast CPU Richardson–Lucy — the arithmetic of aiapy.psf.deconvolve (0.10.2 = 0.12.1 numpy path):
//   H = rfft2(roll(psf, n/2)); u = img; repeat: u ·= irfft2(rfft2(img / irfft2(rfft2(u)·H))·conj(H))
// Differences from reference/ (none change the mathematics):
//  * FFTW r2c/c2r plans made once per (precision, size, threads) and cached (FFTW_MEASURE by default,
//    fftw_cpu.hpp); FFTW threads;
//  * irfft2's 1/(rows·cols) is folded into H (exact: a power of two for aiapy's 4096²), so each
//    iteration has exactly four pointwise passes: spectrum·H, img/est, spectrum·conj(H), u·corr;
//  * pointwise passes are plain loops over contiguous arrays that g++ -O3 vectorises (SSE2 baseline;
//    Highway dispatch is not used yet), split over std::threads in contiguous blocks, so results
//    do not depend on the thread count through these passes.
#include "fast/cpu/deconvolve_cpu.hpp"

#include <complex>
#include <type_traits>
#include <fmt/format.h>

#include "core/backend.hpp"
#include "core/error.hpp"
#include "fast/cpu/fftw_cpu.hpp"
#include "fast/cpu/parallel.hpp"

namespace aiaccel::cpu {
namespace {

// s ← s·h (conj = false) or s·conj(h) (conj = true), numpy's (ar·br − ai·bi, ar·bi + ai·br); interleaved re/im.
template <class T, bool Conj>
void spectrum_multiply(std::complex<T>* s, const std::complex<T>* h, std::size_t count, int threads) {
    parallel_for(count, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        T* __restrict sp = reinterpret_cast<T*>(s + b);
        const T* __restrict hp = reinterpret_cast<const T*>(h + b);
        for (std::size_t k = 0; k < 2 * (e - b); k += 2) {
            const T ar = sp[k], ai = sp[k + 1], br = hp[k], bi = Conj ? -hp[k + 1] : hp[k + 1];
            sp[k] = ar * br - ai * bi;
            sp[k + 1] = ar * bi + ai * br;
        }
    });
}

}  // namespace

template <class T>
Image<double> deconvolve_cpu(const Image<double>& image, const Image<double>& psf, int iterations, bool clip_negative, int threads) {
    const std::size_t rows = image.rows(), cols = image.cols(), n = rows * cols;
    check_deconvolve_inputs(image, psf, iterations);
    threads = resolve_threads(threads);

    Image<T> img(rows, cols);
    parallel_for(n, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t p = b; p < e; ++p) {
            const double v = image.data()[p];
            img.data()[p] = static_cast<T>((clip_negative && v < 0) ? 0.0 : v);
        }
    });
    Image<T> u = img;
    if (iterations == 0) return u.template cast<double>();

    // H/(rows·cols) in float64, rounded once to T. For float32 runs this float64 transform is a one-off:
    // FFTW_ESTIMATE unless stored wisdom makes measured plans free.
    const unsigned h_flags = std::is_same_v<T, double> || fftw_wisdom_enabled() ? fftw_planner_flags() : unsigned(FFTW_ESTIMATE);
    const RealFftPlans<double>& p64 = cached_plans<double>(rows, cols, threads, h_flags);
    const std::size_t ns = rows * p64.half_cols();
    auto H = fftw_buffer<T, std::complex<T>>(ns);
    {
        Image<double> rolled(rows, cols);
        for (std::size_t i = 0; i < rows; ++i) {
            const double* src = psf.row(i);
            double* dst = rolled.row((i + rows / 2) % rows);
            for (std::size_t j = 0; j < cols; ++j) dst[(j + cols / 2) % cols] = src[j];
        }
        auto h64 = fftw_buffer<double, std::complex<double>>(ns);
        p64.forward(rolled.data(), h64.get());
        const double scale = 1.0 / (static_cast<double>(rows) * static_cast<double>(cols));
        for (std::size_t k = 0; k < ns; ++k) H[k] = std::complex<T>(static_cast<T>(h64[k].real() * scale), static_cast<T>(h64[k].imag() * scale));
    }

    const RealFftPlans<T>& plans = cached_plans<T>(rows, cols, threads);
    auto spec = fftw_buffer<T, std::complex<T>>(ns);
    Image<T> est(rows, cols);
    T* const ep = est.data();
    T* const up = u.data();
    const T* const ip = img.data();
    for (int it = 0; it < iterations; ++it) {
        plans.forward(up, spec.get());
        spectrum_multiply<T, false>(spec.get(), H.get(), ns, threads);
        plans.inverse(spec.get(), ep);
        parallel_for(n, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t p = b; p < e; ++p) ep[p] = ip[p] / ep[p];
        });
        plans.forward(ep, spec.get());
        spectrum_multiply<T, true>(spec.get(), H.get(), ns, threads);
        plans.inverse(spec.get(), ep);
        parallel_for(n, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t p = b; p < e; ++p) up[p] = up[p] * ep[p];
        });
    }
    return u.template cast<double>();
}

template Image<double> deconvolve_cpu<double>(const Image<double>&, const Image<double>&, int, bool, int);
template Image<double> deconvolve_cpu<float>(const Image<double>&, const Image<double>&, int, bool, int);

}  // namespace aiaccel::cpu
