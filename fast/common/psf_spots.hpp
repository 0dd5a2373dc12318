// The PSF setup both fast backends share (aiapy.psf.psf 0.10.2 / calculate_psf 0.12.1, docs/algorithms.md
// §1.1–1.2): a channel's mesh parameters, the diffraction spots in aiapy's order (orders outer, arms
// inner) with the exact window of each Gaussian (outside it exp() is +0.0 in float64), and the core
// exp(−w r²) block with its sum. The spike sum over the spots is each backend's: fast/cpu/psf_cpu.cpp
// (threads over row bands) and fast/cuda/psf_cuda.cu (a kernel over per-tile spot lists).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"

namespace aiaccel::cpu {

// One channel's mesh parameters (aiapy filter_mesh_parameters, from core/psf_params.hpp).
struct MeshParams {
    std::array<double, 4> entrance_angles_deg;
    double spacing_e, spacing_fp, width;
    double mesh_ratio;  // 363.0 / 34.0
};
MeshParams mesh_params(int channel, bool preflight_core);  // Error(not_aia) for non-EUV channels

enum class Component { entrance, focal_plane };

// Half-width (px, real) beyond which exp(−w·d²) is exactly +0.0 in float64: w·d² > 746 > 745.14.
double underflow_half_width(double w);

// Pixels t with |t + 0.5 − c| ≤ h (all others underflow), clipped to [0, n): [lo, hi).
void psf_window(double c, double h, long n, std::int32_t& lo, std::int32_t& hi);

// One Gaussian spot: centre (x = column, y = row, in the version's rounding), intensity and its window
// [r0, r1) × [c0, c1) clipped to the grid (the whole grid and more when not `windowed`).
struct PsfSpot {
    double cx, cy, intensity;
    std::int32_t r0, r1, c0, c1;
};
std::vector<PsfSpot> psf_spots(const MeshParams& mp, Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed);

// The core exp(−w r²) on its window: the block, its first row/column and ΣC (row sums in row order).
struct PsfCore {
    Image<double> block;
    std::int64_t lo = 0;  // first row and column of the block
    double sum = 0;
};
PsfCore psf_core(const MeshParams& mp, AiapyVersion v, std::size_t n, bool windowed);

}  // namespace aiaccel::cpu
