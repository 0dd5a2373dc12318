// The one comparison module: every test and every report measures agreement with these metrics
// (docs/validation.md §2). Never per-pixel relative error: dark pixels make it meaningless (docs/validation.md §2).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/image.hpp"

namespace aiaccel::validate {

struct Metrics {
    bool shape_ok = false;
    double max_abs = 0;  // max |a − ref| over pixels finite in both
    double max_abs_over_max = 0;  // max_abs / max |ref|
    double rel_l2 = 0;  // ‖a − ref‖₂ / ‖ref‖₂ over pixels finite in both
    std::size_t nan_mismatch = 0;  // pixels NaN in exactly one of the two
    std::size_t compared = 0;  // pixels finite in both (and outside the excluded band)
    std::size_t bitwise_equal = 0;  // of those, identical values
    double bitwise_fraction() const { return compared ? double(bitwise_equal) / double(compared) : 1.0; }
    std::optional<double> sum_a, sum_ref;  // filled by compare_with_sums (PSF checks)
    std::string summary() const;  // one line for logs and failure messages
};

struct CompareOptions {
    // Exclude pixels within `edge_band` px of the boundary of ref's valid region (where ref is NaN
    // or equal to `invalid_value`, or outside the image), as register's edge flips need (§7.10).
    int edge_band = 0;
    std::optional<double> invalid_value;
};

Metrics compare(const Image<double>& a, const Image<double>& ref, const CompareOptions& opt = {});
Metrics compare_with_sums(const Image<double>& a, const Image<double>& ref);

// Register outputs (docs/algorithms.md §7.10, docs/validation.md §4). A pixel is valid when it is neither NaN nor the fill
// value `missing`. Values are compared outside a `band`-px (Chebyshev) band around pixels invalid in
// either array (our output's invalid pixels just outside a window count too); a flip is a pixel
// valid in exactly one of the two. Here `compared` counts every pixel of `want` and `bitwise_equal`
// the identical ones (NaN = NaN), so bitwise_fraction() is over the whole window; max|Δ| and rel L2
// are over valid pixels outside the band, max|ref| over valid pixels of `want`.
struct RegisterMetrics {
    Metrics metrics;
    // Valid in exactly one of the two, and not within float32 round-off of each other
    // (|a − b| ≤ 1e-6·|missing|): interpolating a plateau of the `missing` value itself gives
    // missing ± round-off in float64 and exactly missing in float32, which is the same pixel, not a
    // boundary decision (§7.10). NaN against a number is always a flip.
    std::size_t flips = 0;
    std::size_t band = 0;  // valid in both but excluded from the values (near an invalid pixel)
    std::string summary() const;
};
// `want` is the whole output to compare with: shapes must be equal (else shape_ok = false).
// `valued`, when given, is set to one byte per pixel of `want`: 1 where values were compared.
RegisterMetrics compare_register(const Image<double>& got, const Image<double>& want, double missing, int band = 2,
                                 std::vector<unsigned char>* valued = nullptr);
// `want` is a window of rows r0.. and columns c0.. of `got` (a golden crop); shape_ok = it fits.
RegisterMetrics compare_register_window(const Image<double>& got, const Image<double>& want, std::size_t r0, std::size_t c0, double missing,
                                        int band = 2, std::vector<unsigned char>* valued = nullptr);

}  // namespace aiaccel::validate
