// CUDA registration kernels (scipy.ndimage.affine_transform, mode 'constant', order 0..5 with the
// B-spline prefilter, as sunpy 7.0.5's rotate calls it from aiapy.calibrate.register; docs/algorithms.md
// §3.2–3.4), float64 throughout with float64 coordinates, plus sunpy's NaN handling and clipping and
// an optional exposure normalisation, fused into the last pass. The geometry (rotation matrix,
// padding, shift, crop, header) is the caller's: this file takes an explicit affine map.
#pragma once

#include <cstddef>

#include "core/fits_io.hpp"  // PixelType
#include "core/image.hpp"

namespace aiaccel::cuda {

// scipy's affine_transform in numpy axis order of the array scipy sees:
//   output[o0][o1] = spline interpolation of input at (matrix·(o0, o1) + offset), cval outside [0, len−1].
struct AffineMap {
    double matrix[2][2] = {{1, 0}, {0, 1}};
    double offset[2] = {0, 0};
    std::size_t out_rows = 0, out_cols = 0;  // of the array scipy writes (0: the input's)
    double cval = 0;  // mode 'constant' fill (stored in `output` as scipy stores it)
    PixelType output = PixelType::f64;  // scipy writes the input's dtype: every value rounded to it
    bool scipy_ge_1_16 = true;  // coordinate sum (shift + o0·m0) + o1·m1; false: ((0 + o0·m0) + o1·m1) + shift
    // sunpy's _rotation_scipy: affine_transform(image.T, ...).T — read the input transposed and write the
    // output transposed, so the returned image is (out_cols × out_rows) in the caller's orientation.
    bool transposed = false;
};

// sunpy's add_rotation_function wrapper when the input holds NaN: NaN → `substitute` (np.nanmedian of
// the input, the caller's), ±inf → ±big (np.nan_to_num; not for integer dtypes), rotate, then NaN
// wherever the order-min(order, 1) interpolation (cval 0) of the k×k NaN-count of the input is > 0
// (k = 1, 1, 5, 5, 7, 7 for order 0..5).
struct NanRule {
    bool enabled = false;
    double substitute = 0;
    double big = 1.7976931348623157e308;
    bool integer_dtype = false;
};

// sunpy's clip=True: values (not NaN) clipped to the input's range widened by `missing` as
// reference::rotate does (nanmin/nanmax of input and output taken on the device), then stored again.
struct ClipRule {
    bool enabled = false;
    double missing = 0;
};

struct RegisterJob {
    AffineMap map;
    int order = 3;
    NanRule nan;
    ClipRule clip;
    bool prefilter = true;
    // When set (≠ 1): every stored value (and NaN) is multiplied by it in double after clipping:
    // sunpy's map / exposure_time as aiapy's normalize_exposure, data·(1/EXPTIME) → float64.
    double exposure_scale = 1.0;
};

// The whole job on the device (one stream, no host round trip between passes). Error(bad_value) for
// an order outside 0..5 or an empty input; Error(unsupported) when it does not fit in device memory.
Image<double> affine_transform_cuda(const Image<double>& in, const RegisterJob& job);

}  // namespace aiaccel::cuda
