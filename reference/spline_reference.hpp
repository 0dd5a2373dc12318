// Reference B-spline interpolation: a port of scipy.ndimage's spline_filter1d / spline_filter and of
// affine_transform for 2-D arrays with mode='constant' (scipy 1.15.3 and 1.16/1.17:
// scipy/ndimage/_interpolation.py affine_transform, src/ni_splines.c apply_filter /
// get_spline_interpolation_weights, src/ni_interpolation.c NI_GeometricTransform). Written from
// reading those sources; docs/algorithms.md §3.4. float64 throughout, one thread, no SIMD, so that every
// rounding happens where scipy's happens.
#pragma once

#include <array>
#include <cstddef>

#include "core/aia_header.hpp"  // Matrix2
#include "core/fits_io.hpp"  // PixelType
#include "core/image.hpp"

namespace aiaccel::reference {

// scipy 1.16 (commit 5ed5aa5) changed the order in which NI_GeometricTransform sums the affine
// coordinate: ≤1.15 computes ((0 + o0·m0) + o1·m1) + shift, ≥1.16 computes (shift + o0·m0) + o1·m1.
enum class CoordinateSum { scipy_le_1_15, scipy_ge_1_16 };
constexpr CoordinateSum coordinate_sum_for_scipy_minor(int minor) {
    return minor >= 16 ? CoordinateSum::scipy_ge_1_16 : CoordinateSum::scipy_le_1_15;
}

struct AffineOptions {
    int order = 3;  // spline order 0..5
    double cval = 0.0;  // value outside the input (mode 'constant')
    bool prefilter = true;  // spline-filter the input first (only matters for order ≥ 2)
    PixelType output = PixelType::f64;  // scipy writes the input's dtype; the result is rounded to it
    CoordinateSum coordinate_sum = CoordinateSum::scipy_ge_1_16;
};

// In-place B-spline prefilter of one line (scipy's apply_filter with its mirror initialisation,
// which scipy uses for the modes 'mirror', 'constant', 'wrap' and 'grid-constant'). order 2..5;
// lines of length 1 are left untouched.
void spline_filter_line(double* c, std::size_t n, std::size_t stride, int order);

// scipy.ndimage.spline_filter1d(in, order, axis, mode='mirror'/'constant', output=float64).
// axis 0 filters along rows index (each column is a line), axis 1 along each row.
Image<double> spline_filter1d(const Image<double>& in, int order, int axis);

// scipy.ndimage.spline_filter(in, order, output=float64): axis 0, then axis 1.
Image<double> spline_filter(const Image<double>& in, int order);

// scipy.ndimage.affine_transform(in, matrix, offset, output_shape, order, mode='constant', cval,
// prefilter) for a 2-D array, with the 2×2 matrix and offset in numpy axis order (axis 0 = rows):
// output[o0][o1] = interpolation of `in` at (matrix · (o0, o1) + offset). Output values are rounded
// to opt.output as scipy stores them (float32: nearest; integers: half away from zero, saturated).
Image<double> affine_transform(const Image<double>& in, const Matrix2& matrix, std::array<double, 2> offset, const AffineOptions& opt = {},
                               std::size_t out_rows = 0, std::size_t out_cols = 0);

// How scipy stores a double into an output array of this dtype (CASE_INTERP_OUT* in ni_interpolation.c).
double store_as(double t, PixelType dtype);

// The interpolation weights scipy computes for a coordinate (get_spline_interpolation_weights);
// w must hold order+1 values. Exposed for tests.
void spline_weights(double x, int order, double* w);

}  // namespace aiaccel::reference
