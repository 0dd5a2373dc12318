// The one comparison module: every test and every report measures agreement with these metrics
// (DESIGN.md). Never per-pixel relative error: dark pixels make it meaningless (ALGORITHMS.md §8).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/image.hpp"

namespace aiaccel::validate {

struct Metrics {
    bool shape_ok = false;
    double max_abs = 0;            // max |a − ref| over pixels finite in both
    double max_abs_over_max = 0;   // max_abs / max |ref|
    double rel_l2 = 0;             // ‖a − ref‖₂ / ‖ref‖₂ over pixels finite in both
    std::size_t nan_mismatch = 0;  // pixels NaN in exactly one of the two
    std::size_t compared = 0;      // pixels finite in both (and outside the excluded band)
    std::size_t bitwise_equal = 0; // of those, identical values
    double bitwise_fraction() const { return compared ? double(bitwise_equal) / double(compared) : 1.0; }
    std::optional<double> sum_a, sum_ref;  // filled by compare_with_sums (PSF checks)
    std::string summary() const;   // one line for logs and failure messages
};

struct CompareOptions {
    // Exclude pixels within `edge_band` px of the boundary of ref's valid region (where ref is NaN
    // or equal to `invalid_value`, or outside the image), as register's edge flips need (§7.10).
    int edge_band = 0;
    std::optional<double> invalid_value;
};

Metrics compare(const Image<double>& a, const Image<double>& ref, const CompareOptions& opt = {});
Metrics compare_with_sums(const Image<double>& a, const Image<double>& ref);

}  // namespace aiaccel::validate
