// Register test inputs shared by the reference, cuda-host and conformance tests (one list, as XNNPACK keeps
// one list of cases for every kernel): the synthetic AIA map and the synthetic rotations each
// backend is checked on against reference::register_image.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/aia_image.hpp"
#include "core/backend.hpp"

namespace aiaccel::test {

// n×n smooth structure plus a small periodic pattern, values of the dtype (float32-rounded, integers
// rounded), header core/derived_input's synthetic_aia_header(cdelt, Sun at the centre, crota2).
AiaImage synthetic_register_map(std::size_t n, double cdelt, double crota2, PixelType dtype = PixelType::f64);

struct RegisterCase {
    std::size_t n;
    double cdelt, crota2;
    PixelType dtype;
    bool nan;  // a NaN pixel and a NaN row segment: median substitute + dilated mask
    bool full_frame;
    std::optional<double> missing;
    int order = 3;
    AiaImage input() const;
    RegisterRequest request() const;
    std::string name() const;
};

// Padding and unpadding, aiapy's crop (the 4094 quirk in miniature), --full-frame, NaN pixels, a missing
// value above the data (clip bounds after the fact) and NaN, float64/float32/int16 data, orders 1, 3, 5.
const std::vector<RegisterCase>& synthetic_register_cases();

}  // namespace aiaccel::test
