// Synthetic cases with exact answers (see synthetic_cases.hpp).
#include "validate/synthetic_cases.hpp"
#include "core/derived_input.hpp"

#include <cmath>
#include <fmt/format.h>

#include "core/error.hpp"
#include "validate/stage_driver.hpp"

namespace aiaccel::validate {
namespace {

// A positive image with structure: a disk, a ramp and isolated spots.
Image<double> scene(std::size_t n) {
    Image<double> img(n, n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            const double r = std::hypot(double(i) - double(n) / 2.0, double(j) - double(n) / 2.0);
            img(i, j) = (r < double(n) / 3.0 ? 100.0 : 5.0) + double((i * 31 + j * 17) % 23) + ((i % 16 == 3 && j % 16 == 5) ? 500.0 : 0.0);
        }
    return img;
}

Image<double> gaussian_psf(std::size_t n, double sigma) {  // centred at [n/2, n/2], sums to 1
    Image<double> p(n, n);
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            const double di = double(i) - double(n / 2), dj = double(j) - double(n / 2);
            s += p(i, j) = std::exp(-(di * di + dj * dj) / (2 * sigma * sigma));
        }
    for (double& v : p.pixels()) v /= s;
    return p;
}

// A level-1 171 Å map: helioprojective TAN in arcsec, observer at 1 AU, Sun radius 959.6″.
AiaImage helio_map(std::size_t n, double cdelt, double crota2, const std::string& name) {
    AiaImage m;
    m.path = name;
    m.dtype = PixelType::f64;
    m.header = synthetic_aia_header(cdelt, (double(n) + 1) / 2, crota2);
    m.data = scene(n);
    return m;
}

}  // namespace

namespace {
Error no_such(const Case& c) {
    return Error(ErrorKind::usage, fmt::format("case {}: no synthetic '{}' case for stage {}", c.name, c.synthetic, c.stage));
}
}  // namespace

SyntheticCase synthetic_deconvolve(const Case& c) {
    const auto n = std::size_t(c.size);
    SyntheticCase s;
    // An AIA-like header whose disk (959.6″) is the scene's (n/3 px), so that a candidate reads its input as an AIA image.
    s.input = helio_map(n, 959.6 / (double(n) / 3.0), 0.0, c.name);
    if (c.synthetic == "delta_psf") {
        s.psf = Image<double>(n, n, 0.0);
        s.psf(n / 2, n / 2) = 1.0;
    } else if (c.synthetic == "constant") {
        s.input.data = Image<double>(n, n, c.value);
        s.psf = gaussian_psf(n, 1.5);
    } else {
        throw no_such(c);
    }
    s.expected = s.input.data;
    return s;
}

SyntheticCase synthetic_register(const Case& c) {
    const auto n = std::size_t(c.size);
    SyntheticCase s;
    if (c.synthetic == "identity") {
        s.input = helio_map(n, 32 * 0.6, 0.0, c.name);  // 128² × 19.2″: the disk (1919″ across) fits
    } else if (c.synthetic == "constant") {
        s.input = helio_map(n, 19.0, 30.0, c.name);
        for (double& v : s.input.data.pixels()) v = c.value;
    } else {
        throw no_such(c);
    }
    s.expected = s.input.data;
    return s;
}

SyntheticCase make_synthetic(const Case& c) { return stage_driver(c.stage).make_synthetic(c); }

}  // namespace aiaccel::validate
