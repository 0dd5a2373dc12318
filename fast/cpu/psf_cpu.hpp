// Fast CPU PSF (aiapy.psf.psf 0.10.2 / calculate_psf 0.12.1 semantics, docs/algorithms.md §1): exactly
// windowed Gaussians, threads over row bands, and the composite as one circular convolution by
// real-to-complex FFTW transforms. Always float64 (a float32 FFT PSF fails the sum check, §1.3).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"

namespace aiaccel::cpu {

// One channel's mesh parameters (aiapy filter_mesh_parameters; transcribed from docs/algorithms.md §1.1
// independently of reference/, so a typo in either shows up as a test failure).
struct MeshParams {
    std::array<double, 4> entrance_angles_deg;
    double spacing_e, spacing_fp, width;
    double mesh_ratio;  // 363.0 / 34.0
};
MeshParams mesh_params(int channel, bool preflight_core);  // Error(not_aia) for non-EUV channels

enum class Component { entrance, focal_plane };

// Half-width (px, real) beyond which exp(−w·d²) is exactly +0.0 in float64: w·d² > 746 > 745.14.
double underflow_half_width(double w);

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
