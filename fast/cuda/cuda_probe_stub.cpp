// CUDA probe when the backend was not compiled (meson -Dcuda=disabled or no nvcc at configure time).
#include "fast/cuda/cuda_probe.hpp"

namespace aiaccel::cuda {

Availability probe() { return {false, "cuda: not built (configure found no nvcc, or -Dcuda=disabled)"}; }

}  // namespace aiaccel::cuda
