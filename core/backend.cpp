// The Backend seam's shared input contracts.
#include "core/backend.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

namespace aiaccel {

void check_deconvolve_inputs(const Image<double>& image, const Image<double>& psf, int iterations) {
    const std::size_t rows = image.rows(), cols = image.cols();
    if (psf.rows() != rows || psf.cols() != cols)
        throw Error(ErrorKind::bad_value,
                    fmt::format("image is {}x{} px but the PSF is {}x{}: aiapy's deconvolve needs the same shape "
                                "(a full-frame 4096x4096 level-1 image for the default PSF)",
                                cols, rows, psf.cols(), psf.rows()));
    if (rows % 2 || cols % 2)
        throw Error(ErrorKind::bad_value,
                    fmt::format("image is {}x{} px: aiapy's deconvolve needs even dimensions "
                                "(irfft2 of an odd width returns width-1)",
                                cols, rows));
    if (iterations < 0) throw Error(ErrorKind::usage, "iterations must be >= 0");
}

void check_psf_values(const Image<double>& psf, const std::string& file) {
    if (psf.size() == 0) throw file_error(ErrorKind::bad_value, file, "the PSF has no pixels");
    double sum = 0.0;
    std::size_t bad = 0;
    for (double v : psf.pixels()) {
        if (!std::isfinite(v))
            ++bad;
        else
            sum += v;
    }
    if (bad)
        throw file_error(ErrorKind::bad_value, file,
                         fmt::format("the PSF has {} non-finite (NaN/Inf) pixel(s) of {}: deconvolving with it "
                                     "gives an all-NaN image",
                                     bad, psf.size()));
    if (!(sum > 0.0))
        throw file_error(
            ErrorKind::bad_value, file,
            fmt::format("the PSF sums to {} ({}): Richardson-Lucy needs a PSF with a positive sum", sum, sum == 0.0 ? "all zero" : "not positive"));
}

std::string Capabilities::refusal(std::string_view backend, Stage stage, Precision p, int order) const {
    const StageCaps& c = of(stage);
    if (!c.provided) return fmt::format("{}: no {} implementation", backend, to_string(stage));
    if (!c.accepts(p)) return fmt::format("{}: no {} implementation", backend, to_string(p));
    if (stage == Stage::register_image && !c.accepts_order(order)) {
        std::string orders;
        for (int k = 0; k < 32; ++k)
            if (c.accepts_order(k)) orders += fmt::format("{}{}", orders.empty() ? "" : ", ", k);
        return fmt::format("{}: register implements spline order {}, not {}", backend, orders, order);
    }
    return {};
}

}  // namespace aiaccel
