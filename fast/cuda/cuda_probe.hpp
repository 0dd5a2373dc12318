// Probe for the CUDA backend: is it compiled in, and is there a device to run it on?
#pragma once

#include <string>

#include "core/availability.hpp"

namespace aiaccel::cuda {

Availability probe();  // never throws, never aborts: any CUDA error means "no device"
std::string device_name();  // the current device, "NVIDIA H200 (sm_90)" (what a result row records as its target)

}  // namespace aiaccel::cuda
