// Report pictures: downsampling, asinh grey stretch, log10 |Δ| maps and the perceptual colormap.
#include "report/report_image.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numbers>
#include <vector>

#include "core/error.hpp"

namespace aiaccel::validate::report {
namespace {

// CIELAB (D65) to 8-bit sRGB; false when the colour lies outside the sRGB gamut.
bool lab_to_srgb(double L, double a, double b, std::array<std::uint8_t, 3>& out) {
    auto finv = [](double t) { return t > 6.0 / 29.0 ? t * t * t : 3.0 * (6.0 / 29.0) * (6.0 / 29.0) * (t - 4.0 / 29.0); };
    const double fy = (L + 16.0) / 116.0;
    const double X = 0.95047 * finv(fy + a / 500.0), Y = finv(fy), Z = 1.08883 * finv(fy - b / 200.0);
    const double lin[3] = {3.2406 * X - 1.5372 * Y - 0.4986 * Z, -0.9689 * X + 1.8758 * Y + 0.0415 * Z, 0.0557 * X - 0.2040 * Y + 1.0570 * Z};
    for (int i = 0; i < 3; ++i) {
        double v = lin[i];
        if (v < -1e-9 || v > 1 + 1e-9) return false;
        v = std::clamp(v, 0.0, 1.0);
        v = v <= 0.0031308 ? 12.92 * v : 1.055 * std::pow(v, 1 / 2.4) - 0.055;
        out[i] = static_cast<std::uint8_t>(std::lround(v * 255.0));
    }
    return true;
}

// The colormap: lightness linear in t (what makes it perceptually ordered and readable in grey),
// hue turning from violet (300°) through blue and teal to yellow (95°), chroma growing with t and
// reduced only as far as needed to stay inside sRGB.
std::array<std::array<std::uint8_t, 3>, 256> build_colormap() {
    std::array<std::array<std::uint8_t, 3>, 256> table{};
    for (int i = 0; i < 256; ++i) {
        const double t = i / 255.0;
        const double L = 20.0 + 73.0 * t;
        const double h = (300.0 - 205.0 * t) * std::numbers::pi / 180.0;
        double c_ok = 0, c_try = 40.0 + 50.0 * t * t;
        std::array<std::uint8_t, 3> rgb{};
        if (lab_to_srgb(L, c_try * std::cos(h), c_try * std::sin(h), rgb)) {
            table[i] = rgb;
            continue;
        }
        for (int k = 0; k < 30; ++k) {  // bisect the largest chroma in gamut
            const double mid = 0.5 * (c_ok + c_try);
            if (lab_to_srgb(L, mid * std::cos(h), mid * std::sin(h), rgb))
                c_ok = mid;
            else
                c_try = mid;
        }
        lab_to_srgb(L, c_ok * std::cos(h), c_ok * std::sin(h), table[i]);
    }
    return table;
}

std::size_t factor_for(const Image<double>& img, std::size_t max_side) {
    const std::size_t side = std::max(img.rows(), img.cols());
    return std::max<std::size_t>(1, (side + max_side - 1) / std::max<std::size_t>(1, max_side));
}

template <class Reduce>
Image<double> block_reduce(const Image<double>& img, std::size_t max_side, Reduce reduce) {
    const std::size_t f = factor_for(img, max_side);
    Image<double> out((img.rows() + f - 1) / f, (img.cols() + f - 1) / f);
    std::vector<double> block;
    for (std::size_t r = 0; r < out.rows(); ++r)
        for (std::size_t c = 0; c < out.cols(); ++c) {
            block.clear();
            for (std::size_t y = r * f; y < std::min(img.rows(), (r + 1) * f); ++y)
                for (std::size_t x = c * f; x < std::min(img.cols(), (c + 1) * f); ++x) block.push_back(img(y, x));
            out(r, c) = reduce(block);
        }
    return out;
}

double percentile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(q * double(v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    return v[k];
}

}  // namespace

std::array<std::uint8_t, 3> colormap(double t) {
    static const auto table = build_colormap();
    if (!(t >= 0)) t = 0;  // also NaN
    return table[static_cast<std::size_t>(std::lround(std::min(t, 1.0) * 255.0))];
}

Image<double> downsample_mean(const Image<double>& img, std::size_t max_side) {
    return block_reduce(img, max_side, [](const std::vector<double>& b) {
        double s = 0;
        std::size_t n = 0;
        for (double v : b)
            if (std::isfinite(v)) s += v, ++n;
        return n ? s / double(n) : std::numeric_limits<double>::quiet_NaN();
    });
}

Image<double> downsample_max(const Image<double>& img, std::size_t max_side) {
    return block_reduce(img, max_side, [](const std::vector<double>& b) {
        double m = std::numeric_limits<double>::quiet_NaN();
        for (double v : b)
            if (!std::isnan(v) && !(m >= v)) m = v;  // first non-NaN, then the larger
        return m;
    });
}

Stretch percentile_stretch(const Image<double>& img) {
    std::vector<double> v;
    v.reserve(img.size());
    for (double x : img.pixels())
        if (std::isfinite(x)) v.push_back(x);
    Stretch s;
    s.lo = percentile(v, 0.005);
    s.hi = percentile(v, 0.999);
    if (!(s.hi > s.lo)) s.hi = s.lo + 1;
    return s;
}

Raster render_grey(const Image<double>& img, const Stretch& s) {
    Raster r{img.cols(), img.rows(), 1, std::vector<std::uint8_t>(img.size())};
    const double norm = std::asinh(1.0 / s.a);
    for (std::size_t y = 0; y < img.rows(); ++y)
        for (std::size_t x = 0; x < img.cols(); ++x) {
            const double v = img(y, x);
            double g = 0;
            if (std::isfinite(v)) g = std::asinh(std::clamp((v - s.lo) / (s.hi - s.lo), 0.0, 1.0) / s.a) / norm;
            r.pixels[(img.rows() - 1 - y) * img.cols() + x] = static_cast<std::uint8_t>(std::lround(g * 255.0));
        }
    return r;
}

Image<double> abs_difference(const Image<double>& a, const Image<double>& ref) {
    if (a.rows() != ref.rows() || a.cols() != ref.cols())
        throw Error(ErrorKind::bad_value,
                    fmt::format("cannot difference a {}x{} image with a {}x{} reference", a.cols(), a.rows(), ref.cols(), ref.rows()));
    Image<double> d(a.rows(), a.cols());
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double x = a.data()[i], y = ref.data()[i];
        const bool nx = std::isnan(x), ny = std::isnan(y);
        d.data()[i] = nx && ny ? std::numeric_limits<double>::quiet_NaN() : nx != ny ? std::numeric_limits<double>::infinity() : std::fabs(x - y);
    }
    return d;
}

double max_abs_finite(const Image<double>& img) {
    double m = 0;
    for (double v : img.pixels())
        if (std::isfinite(v)) m = std::max(m, std::fabs(v));
    return m;
}

DiffMap render_log_difference(const Image<double>& absdiff, double scale, std::size_t max_side) {
    DiffMap m;
    if (!(scale > 0)) scale = 1;
    double min_pos = std::numeric_limits<double>::infinity();
    for (double v : absdiff.pixels()) {
        if (std::isinf(v))
            ++m.nan_mismatch;
        else if (v > 0)
            m.max_value = std::max(m.max_value, v / scale), min_pos = std::min(min_pos, v / scale);
    }
    m.all_zero = m.max_value == 0;
    if (m.all_zero) {
        m.vmin = -1, m.vmax = 0;
    } else {
        m.vmax = std::log10(m.max_value);
        m.vmin = std::floor(std::max(std::log10(min_pos), m.vmax - 6.0));
        if (m.vmax - m.vmin < 1) m.vmin -= 1;
    }
    const Image<double> small = downsample_max(absdiff, max_side);
    m.raster = Raster{small.cols(), small.rows(), 3, std::vector<std::uint8_t>(small.size() * 3)};
    for (std::size_t y = 0; y < small.rows(); ++y)
        for (std::size_t x = 0; x < small.cols(); ++x) {
            const double v = small(y, x);
            std::array<std::uint8_t, 3> c = std::isnan(v) ? kBothNanColour
                : std::isinf(v)                           ? kMismatchColour
                : v > 0                                   ? colormap((std::log10(v / scale) - m.vmin) / (m.vmax - m.vmin))
                                                          : colormap(0);
            std::copy(c.begin(), c.end(), m.raster.pixels.begin() + long(((small.rows() - 1 - y) * small.cols() + x) * 3));
        }
    return m;
}

}  // namespace aiaccel::validate::report
