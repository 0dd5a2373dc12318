// The CUDA backend as a loadable module: fast/cuda/libaiaccel_cuda.so (built only with CUDA) exports
// one C function returning this table. The backend registry (registry/backend_registry.cpp) opens the
// module with dlopen only when the cuda backend is selected or probed, so commands running on the CPU
// never map cudart or cuFFT (the executable does not link them).
#pragma once

#include <memory>

#include "core/availability.hpp"
#include "core/backend.hpp"

namespace aiaccel::cuda {

// Changed whenever this table or the types crossing it (Backend, Image, AiaImage, FitsHeader) change
// layout: the registry refuses a module built with another value or another aiaccel version.
inline constexpr int kPluginAbi = 2;  // 2: Backend::device_timing / reset_device_timing
inline constexpr const char* kPluginEntry = "aiaccel_cuda_plugin_v1";
inline constexpr const char* kPluginFile = "libaiaccel_cuda.so";

struct PluginApi {
    int abi;
    const char* version;  // AIACCEL_VERSION the module was built as
    Availability (*probe)();  // cuda_probe.hpp
    std::unique_ptr<Backend> (*make)();  // cuda_backend.hpp
};

using PluginEntryFn = const PluginApi* (*)();

}  // namespace aiaccel::cuda
