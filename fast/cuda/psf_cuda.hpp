// CUDA PSF (aiapy.psf.psf 0.10.2 / calculate_psf 0.12.1 semantics, docs/algorithms.md §1), float64: the
// diffraction spikes summed straight into device memory (per-tile spot lists, psf_cuda_host.hpp, so
// each pixel adds the same Gaussians in the same order as fast/cpu/psf_cpu), the normalisation, and
// the composite as one circular convolution by cuFFT D2Z/Z2D as psf_cpu does.
#pragma once

#include <cstddef>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"
#include "fast/common/psf_spots.hpp"  // MeshParams, Component

namespace aiaccel::cuda {

// One component on an n×n grid, as cpu::psf_component_cpu (same arguments, same result up to the
// device's exp(), which is within 1 ulp of glibc's). Exposed for tests.
Image<double> psf_component_cuda(const cpu::MeshParams& mp, cpu::Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n,
                                 bool windowed);
// The composite of two components, as cpu::psf_combine_cpu. Exposed for tests.
Image<double> psf_combine_cuda(const Image<double>& entrance, const Image<double>& focal, AiapyVersion v);
// The 4096×4096 PSF of an EUV channel (peak at [2048, 2048]); the components never leave the device.
Image<double> psf_cuda(int channel, bool preflight_core, AiapyVersion v);

}  // namespace aiaccel::cuda
