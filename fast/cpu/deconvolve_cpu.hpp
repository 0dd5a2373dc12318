// Fast CPU Richardson–Lucy (aiapy.psf.deconvolve, docs/algorithms.md §2) in float64 or float32.
#pragma once

#include <string_view>

#include "core/backend.hpp"
#include "core/image.hpp"

namespace aiaccel::cpu {

// Same contract as reference::deconvolve: `img` and `psf` of one even shape (else Error(bad_value)),
// negative pixels clipped to 0 when `req.clip_negative` (NaN stays NaN), `req.iterations` ≥ 0; calls
// req.on_iteration and req.on_estimate after each iteration. T = double or float is the compute
// precision of the image, the FFTs and the pointwise steps; the PSF transform is taken in float64 and
// rounded once to T. Returns the estimate in double storage.
template <class T>
Image<double> deconvolve_cpu(const Image<double>& img, const Image<double>& psf, const DeconvolveRequest& req, int threads);

// The Richardson–Lucy loop deconvolve_cpu runs: "fused" (row/column passes with the pointwise steps
// inside them, the default) or "unfused" (the FFT provider's 2-D plans + separate pointwise passes),
// picked by AIACCEL_DECONVOLVE_CPU=unfused; bench rows record it.
const char* deconvolve_cpu_path();
// Sets AIACCEL_DECONVOLVE_CPU ("fused" or "unfused"; Error(usage) otherwise): bench's --cpu-loop.
void set_deconvolve_cpu_path(std::string_view path);

}  // namespace aiaccel::cpu
