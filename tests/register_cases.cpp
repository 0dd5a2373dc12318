// Register test inputs (tests/register_cases.hpp).
#include "tests/register_cases.hpp"

#include <cmath>
#include <fmt/format.h>

#include "core/derived_input.hpp"

namespace aiaccel::test {

AiaImage synthetic_register_map(std::size_t n, double cdelt, double crota2, PixelType dtype) {
    AiaImage m;
    m.path = "synthetic.fits";
    m.dtype = dtype;
    m.header = synthetic_aia_header(cdelt, (static_cast<double>(n) + 1) / 2, crota2);
    m.data = Image<double>(n, n);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < n; ++c) {
            const double v = 100 + 50 * std::sin(0.21 * static_cast<double>(r)) * std::cos(0.13 * static_cast<double>(c)) +
                static_cast<double>((r * 7 + c * 3) % 11);
            m.data(r, c) = dtype == PixelType::f32 ? static_cast<double>(static_cast<float>(v)) : dtype == PixelType::f64 ? v : std::round(v);
        }
    return m;
}

AiaImage RegisterCase::input() const {
    AiaImage in = synthetic_register_map(n, cdelt, crota2, dtype);
    if (nan) {
        in.data(40, 50) = NAN;
        for (std::size_t x = 10; x < 30; ++x) in.data(70, x) = NAN;
    }
    return in;
}

RegisterRequest RegisterCase::request() const {
    RegisterRequest req;
    req.full_frame = full_frame;
    req.missing = missing;
    req.order = order;
    return req;
}

std::string RegisterCase::name() const {
    return fmt::format("synthetic {}² crota2 {} cdelt {} {}{}{}{} order {}", n, crota2, cdelt, to_string(dtype), nan ? " with NaN" : "",
                       full_frame ? " full frame" : "", missing ? fmt::format(" missing {}", *missing) : "", order);
}

const std::vector<RegisterCase>& synthetic_register_cases() {
    static const std::vector<RegisterCase> cases = {
        {128, 20.0, 12.0, PixelType::f64, false, false, {}},  // rotation + upscale: padded frame
        {128, 20.0, -3.0, PixelType::f32, false, true, {}},  // float32 data, --full-frame
        {256, 9.45, 0.3, PixelType::f32, false, false, {}},  // the 4094 quirk in miniature (unpad + crop)
        {101, 21.0, 45.0, PixelType::f64, true, false, {}},  // NaN pixels: median substitute + dilated mask
        {128, 20.0, 5.0, PixelType::f64, false, false, 250.0},  // missing above the data range: clip bounds after the fact
        {128, 20.0, 5.0, PixelType::f32, true, false, NAN},  // NaN missing
        {40, 60.0, 10.0, PixelType::i16, false, false, 0.0},  // integer data padded with an integer missing value
        {101, 21.0, 20.0, PixelType::f64, true, false, {}, 1},  // spline orders other than aiapy's 3
        {101, 21.0, -20.0, PixelType::f32, true, false, {}, 5},
    };
    return cases;
}

}  // namespace aiaccel::test
