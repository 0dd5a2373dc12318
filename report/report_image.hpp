// Turning FITS images into small report pictures: NaN-aware downsampling to ≤ N px, an asinh display
// stretch in grey, and log10 |difference| maps in a perceptual colormap (ours, built in CIELAB with
// lightness rising linearly from dark violet to light yellow). Row 0 of a FITS image is the bottom
// row on the sky (origin="lower"), so pictures are flipped to put it at the bottom.
#pragma once

#include <array>
#include <cstdint>

#include "core/image.hpp"
#include "report/report_png.hpp"

namespace aiaccel::validate::report {

// The colormap at t in [0, 1] (clamped); 256 entries, lightness L* from 20 to 93.
std::array<std::uint8_t, 3> colormap(double t);

// Block mean of finite pixels (NaN where a block has none), by the smallest integer factor that
// brings both sides to ≤ max_side.
Image<double> downsample_mean(const Image<double>& img, std::size_t max_side);
// Block maximum, for difference maps so that a single bad pixel stays visible; +inf wins over
// finite values, NaN only where the whole block is NaN.
Image<double> downsample_max(const Image<double>& img, std::size_t max_side);

struct Stretch {
    double lo = 0, hi = 1;  // data values mapped to black and white
    double a = 0.02;  // asinh softening: smaller shows more of the faint end
};
// lo/hi at the 0.5 and 99.9 percentiles of the finite pixels.
Stretch percentile_stretch(const Image<double>& img);
// Grey picture: 255·asinh(v/a)/asinh(1/a) with v = (x−lo)/(hi−lo) clipped to [0, 1]; NaN is black.
Raster render_grey(const Image<double>& img, const Stretch& s);

// |a − ref| per pixel; NaN where both are NaN, +inf where exactly one is (a NaN mismatch).
// Throws aiaccel::Error(bad_value) when the shapes differ.
Image<double> abs_difference(const Image<double>& a, const Image<double>& ref);
double max_abs_finite(const Image<double>& img);  // 0 when there is no finite pixel

struct DiffMap {
    Raster raster;  // RGB
    double vmin = 0, vmax = 0;  // colour range in log10 units
    double max_value = 0;  // max finite |Δ|/scale
    std::size_t nan_mismatch = 0;  // full-resolution pixels NaN in exactly one image
    bool all_zero = false;  // no non-zero finite difference anywhere
};
// log10(|Δ| / scale) of a full-resolution |Δ| image, block-max downsampled to ≤ max_side. The range
// runs from the maximum down to a whole decade at most 7 decades below it; smaller values and exact
// zeros take the bottom colour, NaN mismatches are red, pixels NaN in both are mid grey.
DiffMap render_log_difference(const Image<double>& absdiff, double scale, std::size_t max_side);
inline constexpr std::array<std::uint8_t, 3> kMismatchColour{220, 30, 50};
inline constexpr std::array<std::uint8_t, 3> kBothNanColour{128, 128, 128};

}  // namespace aiaccel::validate::report
