// Reference level-1.5 registration: port of aiapy.calibrate.register (v0.10.2 = v0.12.1) on top of
// sunpy GenericMap.rotate (sunpy 7.0.5) and scipy.ndimage.affine_transform, mode 'constant'
// (spline prefilter + interpolation as scipy computes them, reference/spline_reference.hpp), and
// sunpy.map.maputils.contains_full_disk (sunpy 7.0.5). docs/algorithms.md §3.2–3.4, §4, §7.8–7.13.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/aia_image.hpp"
#include "reference/spline_reference.hpp"

namespace aiaccel::reference {

// sunpy GenericMap.rotate(rmatrix, order, scale, recenter=True, missing, method='scipy', clip).
// Output pixels keep the input dtype (scipy writes the input's dtype), rounded as scipy rounds.
struct RotateOptions {
    double scale = 1.0;
    int order = 3;
    double missing = std::numeric_limits<double>::quiet_NaN();  // sunpy's default
    bool clip = true;
    std::optional<Matrix2> rmatrix;  // default: the map's rotation matrix (PCi_j, CDi_j or CROTA2)
    bool unpad = true;  // sunpy crops the padding it no longer needs; false keeps the whole frame
    CoordinateSum coordinate_sum = CoordinateSum::scipy_ge_1_16;
};
AiaImage rotate(const AiaImage& in, const RotateOptions& opt = {});

struct RegisterOptions {
    std::optional<double> missing;  // default: nanmin(data), as aiapy
    int order = 3;  // spline order (aiapy default 3; 0..5 as scipy)
    // false (aiapy): sunpy's unpad + aiapy's crop, e.g. 4094×4094 for a 4096² image with CDELT < 0.6″.
    // true: neither; the whole frame rotate() computed, Sun at its centre (4096² in that example,
    // n + 2·pad when the image is scaled up).
    bool full_frame = false;
    int scipy_minor = 17;  // coordinate summation order changed in scipy 1.16 (§3.4)
};

// Register an AIA level-1 image to 0.6″/px (or a multiple of it for binned images), north up, Sun at
// the centre. Throws Error(bad_value) with the file name when the image does not contain the full disk
// (as aiapy refuses).
AiaImage register_image(const AiaImage& in, const RegisterOptions& opt = {});

// What aiapy.calibrate.register warns about (AIApyUserWarning, in its words) for an input it
// registers: "Image registration should only be applied to level 1 data" when LVL_NUM is absent or
// above 1 (sunpy's processing_level), e.g. the JSOC synoptic level-1.5 images. Output is unchanged.
std::vector<std::string> register_warnings(const AiaImage& in);

struct FullDiskCheck {
    bool full_disk = false;
    double margin_arcsec = 0;  // min over edge pixels of (angular distance from Sun centre − solar radius); < 0: on the disk
    bool ambiguous = false;  // |margin| < 1e-6″: round-off could flip the answer
    bool sun_centre_inside = false;
    std::size_t edge_pixels_on_disk = 0;
};
// sunpy.map.maputils.contains_full_disk (sunpy 7.0.5), TAN projection, observer distance as sunpy's
// AIAMap takes it (HAEX/Y/Z_OBS, else HGLN/HGLT/DSUN_OBS, else CRLN/CRLT/DSUN_OBS), radius RSUN_REF.
FullDiskCheck contains_full_disk(const AiaImage& img);

// numpy 2.4 + scipy-openblas 0.3.31 (x86-64 AVX2/AVX-512 kernels) arithmetic for the 2×2 algebra
// sunpy does: linalg.inv (getrf + getrs), dot(2×2, 2) (gemv) and dot(2×2, 2×2) (gemm). Exposed for tests.
Matrix2 numpy_inv2(const Matrix2& a);
std::array<double, 2> numpy_matvec2(const Matrix2& a, std::array<double, 2> v);
Matrix2 numpy_matmul2(const Matrix2& a, const Matrix2& b);

}  // namespace aiaccel::reference
