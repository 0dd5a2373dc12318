// Internals of the reference PSF exposed for tests (grid size, dense vs windowed evaluation).
#pragma once

#include <array>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"

namespace aiaccel::reference::detail {

inline constexpr std::size_t kPsfSize = 4096;

struct MeshInfo {
    std::array<double, 4> angles;  // entrance-filter arm angles, degrees, aiapy's order
    double spacing_e, spacing_fp;  // px
    double width;  // w in exp(−w r²)
    double mesh_pitch, mesh_width;  // µm
};
MeshInfo mesh_info(int channel, bool preflight_core);  // throws Error(not_aia) for non-EUV channels

enum class PsfComponentKind { entrance, focal_plane };
// One component on an n×n grid (aiapy: n = 4096); `windowed` = skip the exact-zero exp region.
Image<double> component(const MeshInfo& mi, PsfComponentKind which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed);
Image<double> combine(const Image<double>& entrance, const Image<double>& focal, AiapyVersion v);

}  // namespace aiaccel::reference::detail
