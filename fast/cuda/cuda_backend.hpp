// The CUDA backend behind the Backend seam (core/backend.hpp): psf (float64, cast by f32 callers as
// the cpu backend does), deconvolve (float64 or float32) and register (spline orders 0..5, float64
// compute for both precisions: register_cuda_host.hpp around the kernels of register_cuda.hpp). Built without CUDA,
// make_backend() throws and probe() says "not built" (cuda_backend_stub.cpp, cuda_probe_stub.cpp).
#pragma once

#include <memory>

#include "core/backend.hpp"

namespace aiaccel::cuda {

std::unique_ptr<Backend> make_backend();

}  // namespace aiaccel::cuda
