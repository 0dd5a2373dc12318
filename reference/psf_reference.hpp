// Reference PSF: line-by-line port of aiapy.psf.psf (v0.10.2) and aiapy.psf.calculate_psf
// (v0.12.1) — entrance-filter mesh + focal-plane mesh diffraction patterns, combined by FFT.
// float64, no SIMD, no threads. docs/algorithms.md §1.
#pragma once

#include <optional>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"

namespace aiaccel::reference {

struct PsfOptions {
    bool use_preflight_core = false;  // aiapy use_preflightcore
    std::optional<std::vector<int>> diffraction_orders;  // default −100 … 100
    AiapyVersion version = kDefaultAiapyVersion;
};

// The 4096×4096 PSF of an EUV channel (94, 131, 171, 193, 211, 304, 335 Å), peak at [2048, 2048].
// Unknown or non-EUV channels throw Error(not_aia) naming the channel.
Image<double> psf(int channel, const PsfOptions& opt = {});

// One diffraction component (entrance or focal-plane), before the FFT combination; exposed for tests.
enum class PsfComponent { entrance, focal_plane };
Image<double> psf_component(int channel, PsfComponent which, const PsfOptions& opt = {});

}  // namespace aiaccel::reference
