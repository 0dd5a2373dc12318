// Reference level-1.5 registration: port of aiapy.calibrate.register (v0.10.2 = v0.12.1) on top of
// sunpy GenericMap.rotate (sunpy 7.0) and scipy.ndimage.affine_transform order 3, mode 'constant'
// (spline prefilter + interpolation as scipy computes them). ALGORITHMS.md §3.2–3.4, §4.
#pragma once

#include <optional>

#include "core/aia_image.hpp"

namespace aiaccel::reference {

struct RegisterOptions {
    std::optional<double> missing;  // default: nanmin(data), as aiapy
    int order = 3;                  // spline order (aiapy default 3; 0..5 as scipy)
    bool full_frame = false;        // keep the full padded frame (4096) instead of aiapy's crop (e.g. 4094)
    int scipy_minor = 17;           // coordinate summation order changed in scipy 1.16 (§3.4)
};

// Register an AIA level-1 image to 0.6″/px, north up, Sun at the centre. Throws Error(bad_value) with
// the file name when the image does not contain the full disk (as aiapy refuses).
AiaImage register_image(const AiaImage& in, const RegisterOptions& opt = {});

struct FullDiskCheck {
    bool full_disk = false;
    double margin_arcsec = 0;  // min angular distance of an edge pixel from the limb (− inside disk)
    bool sun_centre_inside = false;
};
// sunpy.map.maputils.contains_full_disk (sunpy 7.0.5).
FullDiskCheck contains_full_disk(const AiaImage& img);

}  // namespace aiaccel::reference
