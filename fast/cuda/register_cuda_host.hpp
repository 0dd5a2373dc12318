// The CUDA backend's register (aiapy.calibrate.register → sunpy GenericMap.rotate → scipy
// affine_transform, docs/algorithms.md §3.2–3.4) as host code around one device job: the plan the fast
// backends share (fast/common/register_plan: refusals, scale, sunpy's frame, aiapy's crop, header), the
// padded frame np.pad makes, sunpy's NaN substitute, then one RegisterJob (NaN mask, prefilter,
// interpolation, clip) over the whole rotated frame, and the crop. Plain C++ (g++): the job runner is
// a parameter, so tests/test_cuda_host.cpp runs this composition with the kernels' arithmetic on the
// host and compares it with reference/ on real files, without a GPU.
#pragma once

#include <functional>

#include "core/aia_image.hpp"
#include "core/backend.hpp"
#include "core/image.hpp"
#include "fast/cuda/register_cuda.hpp"

namespace aiaccel::cuda {

// Runs one RegisterJob on a padded frame and returns the rotated frame (affine_transform_cuda on a device).
using AffineRunner = std::function<Image<double>(const Image<double>&, const RegisterJob&)>;

// Register `in` at spline order req.order (0..5), computing in float64 whatever the requested precision
// (as the PSF: float64 is the reference's precision and the kernels' only one). Refuses as aiapy
// refuses (Error(bad_value) naming the file) before anything runs.
AiaImage register_image_with(const AiaImage& in, const RegisterRequest& req, const AffineRunner& run);

}  // namespace aiaccel::cuda
