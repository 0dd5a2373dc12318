// The CUDA backend when it was not compiled (meson -Dcuda=disabled or no nvcc at configure time):
// the registry still links; probe() (cuda_probe_stub.cpp) says why it is unavailable, so make_backend()
// is never reached through make_available_backend, and throws if called directly.
#include "fast/cuda/cuda_backend.hpp"

#include "core/error.hpp"

namespace aiaccel::cuda {

std::unique_ptr<Backend> make_backend() { throw Error(ErrorKind::usage, "cuda: not built (configure found no nvcc, or -Dcuda=disabled)"); }

}  // namespace aiaccel::cuda
