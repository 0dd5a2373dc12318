// Reference Richardson–Lucy deconvolution — port of aiapy.psf.deconvolve (0.10.2; the 0.12.1
// numpy path is the same arithmetic), float64 throughout:
//   img = where(img < 0, 0, img)            (clip_negative; NaN stays NaN)
//   H = rfft2(roll(psf, n/2, both axes)); Hc = conj(H)
//   u = img; repeat: ratio = img / irfft2(rfft2(u)·H); u = u · irfft2(rfft2(ratio)·Hc)
// FFTs: FFTW r2c/c2r 2-D (FFTW_ESTIMATE: deterministic plans), scaled by 1/(rows·cols) after the
// inverse as numpy's irfft2 does (a power of two for even sizes: exact). docs/algorithms.md §2, §7.5.
#include "reference/deconvolve_reference.hpp"

#include <fftw3.h>

#include <complex>
#include <fmt/format.h>
#include <memory>
#include <vector>

#include "core/backend.hpp"
#include "core/error.hpp"

namespace aiaccel::reference {
namespace {

using Cplx = std::complex<double>;
// numpy's complex multiply: (ar·br − ai·bi, ar·bi + ai·br), no NaN/inf recovery (unlike C's __muldc3).
inline Cplx cmul(Cplx a, Cplx b) { return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()}; }
struct FftwFree {
    void operator()(void* p) const { fftw_free(p); }
};
template <class T>
std::unique_ptr<T[], FftwFree> fftw_array(std::size_t n) {
    auto* p = static_cast<T*>(fftw_malloc(sizeof(T) * n));
    if (!p) throw Error(ErrorKind::internal, "out of memory for the deconvolution FFT buffers");
    return std::unique_ptr<T[], FftwFree>(p);
}

// Owns one r2c and one c2r plan over a real buffer and a half-spectrum buffer.
class RealFft2 {
public:
    RealFft2(std::size_t rows, std::size_t cols)
        : rows_(rows), cols_(cols), hc_(cols / 2 + 1), real_(fftw_array<double>(rows * cols)), spec_(fftw_array<Cplx>(rows * hc_)) {
        auto* s = reinterpret_cast<fftw_complex*>(spec_.get());
        fwd_ = fftw_plan_dft_r2c_2d(int(rows), int(cols), real_.get(), s, FFTW_ESTIMATE);
        inv_ = fftw_plan_dft_c2r_2d(int(rows), int(cols), s, real_.get(), FFTW_ESTIMATE);
    }
    ~RealFft2() {
        fftw_destroy_plan(fwd_);
        fftw_destroy_plan(inv_);
    }
    RealFft2(const RealFft2&) = delete;
    RealFft2& operator=(const RealFft2&) = delete;

    double* real() { return real_.get(); }
    Cplx* spectrum() { return spec_.get(); }
    std::size_t spectrum_size() const { return rows_ * hc_; }
    void forward() { fftw_execute(fwd_); }
    // c2r (destroys the spectrum), then ×1/(rows·cols) as numpy's irfft2.
    void inverse() {
        fftw_execute(inv_);
        const double scale = 1.0 / (static_cast<double>(rows_) * static_cast<double>(cols_));
        for (std::size_t p = 0; p < rows_ * cols_; ++p) real_[p] *= scale;
    }

private:
    std::size_t rows_, cols_, hc_;
    std::unique_ptr<double[], FftwFree> real_;
    std::unique_ptr<Cplx[], FftwFree> spec_;
    fftw_plan fwd_{}, inv_{};
};

}  // namespace

Image<double> deconvolve(const Image<double>& image, const Image<double>& psf, const DeconvolveOptions& opt) {
    const std::size_t rows = image.rows(), cols = image.cols();
    check_deconvolve_inputs(image, psf, opt.iterations);
    const std::size_t n = rows * cols;

    Image<double> img(rows, cols);
    for (std::size_t p = 0; p < n; ++p) {
        const double v = image.data()[p];
        img.data()[p] = (opt.clip_negative && v < 0) ? 0.0 : v;
    }
    RealFft2 fft(rows, cols);
    // H = rfft2(roll(psf, (rows/2, cols/2))): the PSF centre moves to [0, 0].
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) fft.real()[((i + rows / 2) % rows) * cols + (j + cols / 2) % cols] = psf(i, j);
    fft.forward();
    std::vector<Cplx> H(fft.spectrum(), fft.spectrum() + fft.spectrum_size());

    Image<double> u = img;
    Image<double> ratio(rows, cols);
    for (int it = 0; it < opt.iterations; ++it) {
        std::copy_n(u.data(), n, fft.real());
        fft.forward();
        Cplx* s = fft.spectrum();
        for (std::size_t k = 0; k < H.size(); ++k) s[k] = cmul(s[k], H[k]);
        fft.inverse();
        for (std::size_t p = 0; p < n; ++p) ratio.data()[p] = img.data()[p] / fft.real()[p];
        std::copy_n(ratio.data(), n, fft.real());
        fft.forward();
        for (std::size_t k = 0; k < H.size(); ++k) s[k] = cmul(s[k], std::conj(H[k]));
        fft.inverse();
        for (std::size_t p = 0; p < n; ++p) u.data()[p] = u.data()[p] * fft.real()[p];
        if (opt.on_iteration) opt.on_iteration(it + 1, opt.iterations);
        if (opt.on_estimate) opt.on_estimate({.iteration = it + 1, .rows = rows, .cols = cols, .f64 = u.data()});
    }
    return u;
}

}  // namespace aiaccel::reference
