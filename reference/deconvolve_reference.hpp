// Reference Richardson–Lucy deconvolution: port of aiapy.psf.deconvolve (v0.10.2 = v0.12.1 numpy
// path), float64 FFTs (FFTW, same axis order and normalisation as numpy.fft). docs/algorithms.md §2.
#pragma once

#include <functional>

#include "core/backend.hpp"
#include "core/image.hpp"

namespace aiaccel::reference {

struct DeconvolveOptions {
    int iterations = 25;
    bool clip_negative = true;
    std::function<void(int done, int total)> on_iteration = {};  // progress; may be empty
    EstimateHook on_estimate = {};  // the estimate after each iteration (core/backend.hpp); may be empty
};

// `img` and `psf` must have the same even shape (aiapy: the PSF is 4096×4096, so the image must be
// too); otherwise Error(bad_value) explaining the shape rule. Returns float64 data.
Image<double> deconvolve(const Image<double>& img, const Image<double>& psf, const DeconvolveOptions& opt = {});

}  // namespace aiaccel::reference
