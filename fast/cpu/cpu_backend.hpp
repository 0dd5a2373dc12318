// The fast CPU backend behind the Backend seam: psf (float64, cast for f32 callers) and
// deconvolve (float64 or float32), FFTW + threads; register (order 3, float64 or float32), Highway SIMD + threads.
#pragma once

#include <memory>

#include "core/backend.hpp"

namespace aiaccel::cpu {

std::unique_ptr<Backend> make_backend();
Availability probe();

}  // namespace aiaccel::cpu
