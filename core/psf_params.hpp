// Instrument parameters of the AIA PSF per EUV channel — aiapy's filter_mesh_parameters (identical in
// 0.10.2 and 0.12.1; Grigis et al. 2012, Table 2). Data, not numerics: shared by every backend
// (docs/architecture.md §1 allows core/ channel constants). error_angle_arm and CDELT are not used by aiapy.
#pragma once

#include <array>

namespace aiaccel {

struct PsfChannelParams {
    int channel;  // Å
    std::array<double, 4> entrance_angles_deg;  // entrance-filter arm angles, aiapy's order
    double spacing_e, spacing_fp;  // px between diffraction spots (entrance, focal plane)
    double width_preflight;  // w of exp(−w r²) with use_preflightcore=True (default 4.5)
};

inline constexpr double kPsfDefaultWidth = 4.5;
inline constexpr double kMeshPitchUm = 363.0, kMeshWidthUm = 34.0;
inline constexpr std::array<double, 2> kFocalPlaneAnglesDeg = {45.0, -45.0};

// The row of an EUV channel; Error(not_aia) naming the channel and the EUV list otherwise.
const PsfChannelParams& psf_params(int channel);

}  // namespace aiaccel
