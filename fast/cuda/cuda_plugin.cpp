// Entry point of the loadable CUDA module (cuda_plugin.hpp): the probe and the backend factory.
#include "fast/cuda/cuda_plugin.hpp"

#include "aiaccel_config.hpp"
#include "fast/cuda/cuda_backend.hpp"
#include "fast/cuda/cuda_probe.hpp"

extern "C" __attribute__((visibility("default"))) const aiaccel::cuda::PluginApi* aiaccel_cuda_plugin_v1() {
    static const aiaccel::cuda::PluginApi api{aiaccel::cuda::kPluginAbi, AIACCEL_VERSION, &aiaccel::cuda::probe, &aiaccel::cuda::make_backend};
    return &api;
}
