// The explicit list of backends (reference, cpu, cuda) with a probe saying whether each runs here.
// The cuda backend lives in a loadable module (fast/cuda/cuda_plugin.hpp), opened only by its probe
// or when it is selected.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/backend.hpp"

namespace aiaccel::cuda {
struct PluginApi;
}

namespace aiaccel::registry {

std::span<const BackendEntry> all_backends();
// The FFT library a backend's transforms use now at precision p, as result rows record it
// (BackendEntry::fft); "" for a name that is not a registered backend.
std::string backend_fft(std::string_view backend, Precision p);
// The entry with this name; Error(usage) listing the known names otherwise.
const BackendEntry& find_backend(std::string_view name);
// Makes the backend, or throws Error(usage) with the probe's reason when it is not available here.
std::unique_ptr<Backend> make_available_backend(std::string_view name);

// The CUDA module, loaded on the first call: $AIACCEL_CUDA_MODULE when set, else libaiaccel_cuda.so
// next to the executable, else <exe dir>/../fast/cuda/ (the build tree). api is null when it was not
// built, not found or not loadable; error says why. The cuda entry's probe skips loading it where no
// NVIDIA driver node exists (/dev/nvidiactl, /dev/dxg) unless $AIACCEL_CUDA_MODULE names it.
struct CudaModule {
    std::string path;
    std::string error;
    const cuda::PluginApi* api = nullptr;
};
const CudaModule& cuda_module();

// The status a --help text shows for a backend: its probe when the command line asks for help (see
// set_probe_in_help), else a line that loads nothing, so building the command line never maps CUDA.
std::string help_status(const BackendEntry& e);
void set_probe_in_help(bool on);

}  // namespace aiaccel::registry
