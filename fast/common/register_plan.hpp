// The host side of aiapy.calibrate.register (v0.10.2 = v0.12.1) → sunpy GenericMap.rotate (sunpy
// 7.0.5, method 'scipy', recenter, clip) that the fast backends share: the full-disk refusal, the
// target scale, the map's rotation matrix and numpy's 2×2 algebra (§7.9), sunpy's padded frame and
// its output→input map, the fill value and the data's range, sunpy's unpadding and aiapy's crop, and
// the header keywords of the registered map (docs/algorithms.md §3.2–3.3, §4, §7.8–7.13). The pixel work is
// each backend's: fast/cpu/register_cpu.cpp (Highway) and fast/cuda/register_cuda_host.cpp (kernels).
// Written from docs/algorithms.md; reference/register_reference.cpp computes the same metadata
// independently. Built without FMA contraction except where numpy's BLAS fuses (std::fma).
#pragma once

#include <array>
#include <cstddef>
#include <limits>

#include "core/aia_image.hpp"
#include "core/backend.hpp"
#include "fast/common/affine_map.hpp"

namespace aiaccel::cpu {

bool is_integer(PixelType t);
// How scipy stores a double into the output dtype: floats round to nearest; integers round half away
// from zero, saturate, truncate (NaN → 0).
double store(double t, PixelType dtype);

// nanmin / nanmax of some pixels, whether any is NaN and whether all are finite.
struct PadStats {
    double min = std::numeric_limits<double>::quiet_NaN(), max = std::numeric_limits<double>::quiet_NaN();
    bool any_nan = false, all_finite = true;
};
void account(PadStats& s, double v);
void merge(PadStats& a, const PadStats& b);
PadStats scan(const Image<double>& a, int threads);

// np.nanmedian of the padded frame (the data plus n_fill copies of fill) in its dtype (even count: the
// two middle values summed in the dtype, halved): sunpy's substitute for NaN pixels before rotating.
double padded_nanmedian(const Image<double>& data, std::size_t n_fill, double fill, PixelType dtype);

// The rotated frame of GenericMap.rotate(recenter=True): padding, output→input map, unpadding.
struct Frame {
    std::size_t pad_x = 0, pad_y = 0, unpad_x = 0, unpad_y = 0, py = 0, px = 0;  // py × px: the padded frame
    std::array<double, 2> array_center{};
    Matrix2 rinv{};
    AffineMap map{};  // (x, y) of the padded frame's output pixel → (x, y) in the padded input
};

// A window of the rotated (padded) frame: rows r0 … r0+rows−1, columns c0 … c0+cols−1.
struct Window {
    std::size_t r0, c0, rows, cols;
};

// Everything register decides before touching a pixel.
struct RegisterPlan {
    Matrix2 rotation{};  // the map's rotation matrix (PCi_j, else CDi_j / CDELTi, else CROTA2)
    double cdelt1 = 0, cdelt2 = 0;
    double scale = 1;  // CDELT1 / target scale (0.6″/px, or a multiple for a binned image)
    double missing = 0;  // the request's, else nanmin(data) (aiapy's default)
    double fill = 0;  // the padding value as np.pad stores it in the dtype
    PadStats data, pad;  // the data's range; the padded frame's (data + fill when padded)
    Frame frame;
    Window crop{};  // of the rotated frame: sunpy's unpad, then aiapy's crop (or the unpadded frame)
    double crpix1 = 0, crpix2 = 0;  // of the unpadded frame (1-based)
    // The clip bounds are the padded data's extremes, known before interpolating (missing NaN or inside
    // the data's range); otherwise they depend on the whole rotated frame's range.
    bool early_clip = false;
};

// Refuses, as aiapy does, with Error(bad_value) naming the file: an image without the full solar disk,
// integer data padded with a non-integer missing value; Error(unsupported / missing_keyword) for maps
// whose WCS it cannot read. `threads` (0: all cores) parallelise the scan of the data's range only.
RegisterPlan plan_register(const AiaImage& in, const RegisterRequest& req, int threads);

// The registered map's header, written into `out` (a copy of the input's): sunpy rotate's CRVAL, CRPIX,
// PCi_j, CDELTi and removed CROTA/CD keywords, aiapy's crop offset, R_SUN = RSUN_OBS / CDELT1 and
// LVL_NUM = 1.5.
void write_registered_header(AiaImage& out, const AiaImage& in, const RegisterPlan& plan, bool full_frame);

}  // namespace aiaccel::cpu
