// Order-3 spline interpolation at affinely mapped coordinates, mode 'constant', fast CPU path: the
// inner loop of scipy.ndimage.affine_transform (scipy 1.15–1.17 NI_GeometricTransform with
// get_spline_interpolation_weights; docs/algorithms.md §3.4) as sunpy's rotate calls it, on prefiltered
// coefficients (fast/cpu/spline_prefilter_cpu.hpp). SIMD over output pixels (Google Highway, run-time
// dispatch), coordinates always in float64, coefficients and weights in T (double or float).
#pragma once

#include <cstddef>

#include "fast/common/affine_map.hpp"  // AffineMap

namespace aiaccel::cpu {

// Coefficients of an in_rows (y) × in_cols (x) image, row-major.
template <class T>
struct SplineCoefficients {
    const T* data;
    std::size_t rows, cols;
};

// Output pixels (oy, ox0 … ox0+count−1) of the rotated frame: the spline value (accumulated in T, in
// scipy's tap order) or `cval` where X ∉ [0, cols−1] or Y ∉ [0, rows−1]. Values are not yet rounded
// to the output dtype. Taps outside the image are mirrored as scipy mirrors them.
void affine_order3_row_cpu(const SplineCoefficients<double>& c, const AffineMap& m, std::size_t oy, std::size_t ox0, std::size_t count, double cval,
                           double* out);
void affine_order3_row_cpu(const SplineCoefficients<float>& c, const AffineMap& m, std::size_t oy, std::size_t ox0, std::size_t count, double cval,
                           double* out);

}  // namespace aiaccel::cpu
