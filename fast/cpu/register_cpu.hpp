// Fast CPU registration to level 1.5: aiapy.calibrate.register (v0.10.2 = v0.12.1) on sunpy's
// GenericMap.rotate (sunpy 7.0.5, method 'scipy', recenter, clip) and scipy.ndimage.affine_transform
// order 3, mode 'constant' (scipy ≥ 1.16 coordinate summation), docs/algorithms.md §3.2–3.4, §4, §7.8–7.13.
// The same geometry, NaN handling (median substitute, 5×5-dilated NaN mask rotated with order 1),
// clipping, aiapy crop and header updates as reference/register_reference, re-implemented here; the
// numerics run in fast/cpu/spline_prefilter_cpu (B-spline prefilter) and fast/cpu/affine_transform_cpu
// (interpolation), SIMD + threads. Coordinates are float64; Precision::f32 keeps the spline
// coefficients, weights and sums in float32. Output values are rounded to the input's dtype.
#pragma once

#include "core/aia_image.hpp"
#include "core/backend.hpp"

namespace aiaccel::cpu {

// Register `in` (a full-disk AIA level-1 image). Refuses, as aiapy does, with Error(bad_value) naming
// the file when the image does not contain the full solar disk. Only spline order 3 (aiapy's
// default) is implemented: other orders give Error(not_implemented). Results do not depend on `threads`
// (0 = hardware concurrency).
AiaImage register_image_cpu(const AiaImage& in, const RegisterRequest& req, Precision precision, int threads);

}  // namespace aiaccel::cpu
