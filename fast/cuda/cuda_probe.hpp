// Probe for the CUDA backend: is it compiled in, and is there a device to run it on?
#pragma once

#include "core/availability.hpp"

namespace aiaccel::cuda {

Availability probe();  // never throws, never aborts: any CUDA error means "no device"

}  // namespace aiaccel::cuda
