// Fast CPU PSF (aiapy.psf.psf 0.10.2 / calculate_psf 0.12.1 semantics, docs/algorithms.md §1): exactly
// windowed Gaussians, threads over row bands, and the composite as one circular convolution by
// real-to-complex FFTW transforms. Always float64 (a float32 FFT PSF fails the sum check, §1.3).
#pragma once

#include <cstddef>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"
#include "fast/common/psf_spots.hpp"  // MeshParams, Component, the spots and the core

namespace aiaccel::cpu {

// One component, 0.18·S/ΣS + 0.82·C/ΣC in the version's operation order, on an n×n grid. Only the
// square window of each Gaussian where exp() is not exactly zero is evaluated when `windowed`; the
// dense path evaluates every pixel (for the proof test). Per-pixel accumulation order is aiapy's
// (orders outer, arms inner) for any thread count; ΣS and ΣC are row sums added in row order.
Image<double> psf_component_cpu(const MeshParams& mp, Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed,
                                int threads);

// The composite |F(F(A)·F(B))|, rolled by n/2 and /n², computed as the circular convolution
// A ⊛ B (r2c, r2c, c2r) point-reflected about [n/2, n/2]; |·| of the real result as aiapy's abs().
// Takes the components by value: their storage holds the convolution and then the result.
Image<double> psf_combine_cpu(Image<double> entrance, Image<double> focal, AiapyVersion v, int threads);

// The 4096×4096 PSF of an EUV channel, peak at [2048, 2048].
Image<double> psf_cpu(int channel, bool preflight_core, AiapyVersion v, int threads);

}  // namespace aiaccel::cpu
