// Order-3 spline interpolation at affinely mapped coordinates, mode 'constant', fast CPU path: the
// inner loop of scipy.ndimage.affine_transform (scipy 1.15–1.17 NI_GeometricTransform with
// get_spline_interpolation_weights; docs/algorithms.md §3.4) as sunpy's rotate calls it, on prefiltered
// coefficients (fast/cpu/spline_prefilter_cpu.hpp). SIMD over output pixels (Google Highway, run-time
// dispatch), coordinates always in float64, coefficients and weights in T (double or float).
#pragma once

#include <cstddef>

namespace aiaccel::cpu {

// The output→input map in image (x, y) order, as sunpy passes it to scipy on the transposed array:
//   X = sx + ox·m00 + oy·m01,  Y = sy + ox·m10 + oy·m11
// summed as scipy ≥ 1.16 does ((sx + ox·m00) + oy·m01) or, with sum_ge_1_16 = false, as ≤ 1.15 does
// ((ox·m00 + oy·m01) + sx).
struct AffineMap {
    double m00, m01, m10, m11, sx, sy;
    bool sum_ge_1_16 = true;
    double x(double ox, double oy) const { return sum_ge_1_16 ? (sx + ox * m00) + oy * m01 : (ox * m00 + oy * m01) + sx; }
    double y(double ox, double oy) const { return sum_ge_1_16 ? (sy + ox * m10) + oy * m11 : (ox * m10 + oy * m11) + sy; }
};

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
