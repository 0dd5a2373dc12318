// Metrics a solar physicist reads (docs/validation.md §2.1): where the Sun is in an output image,
// and how an output agrees with the reference on the solar disk, across the limb and off the disk.
// They complement the whole-image metrics of compare.hpp, which a bias on the disk or an error in
// the dim corona can pass: a flux bias of 1e-7 is within a float32 row's max|Δ|/max bound, an
// off-disk error is measured against the disk's maximum, 50× the corona's.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/aia_image.hpp"
#include "core/image.hpp"

namespace aiaccel::validate {

// The solar disk in an image: centre (0-based column x, row y) and radius, in pixels.
struct SolarDisk {
    double x0 = 0, y0 = 0, r = 0;
};
// From the header's WCS (CRPIX, CDELT, PC/CROTA2, CRVAL) and RSUN_OBS (else DSUN_OBS), as
// AiaHeader::sun_centre_px / sun_radius_px give it. Never R_SUN: level-1.5 synoptic files carry the
// 4096² frame's value there (docs/validation.md §2.1). nullopt when a keyword is missing or absurd.
std::optional<SolarDisk> solar_disk(const AiaImage& img);

// Limb profile: mean over radial bins of kLimbBinPx from kLimbInner·R to kLimbOuter·R.
inline constexpr double kLimbInner = 0.9, kLimbOuter = 1.1, kLimbBinPx = 0.5;

// Each value is absent when no compared pixel lies where it is measured (e.g. a cut-out inside the disk).
struct DiskMetrics {
    std::optional<double> flux_ratio;  // Σ output / Σ reference over compared pixels with r ≤ R
    std::optional<double> limb_profile;  // max_k |P_out(k) − P_ref(k)| / max_k |P_ref(k)| over the limb bins
    std::optional<double> on_disk;  // max|Δ| / max|ref| over compared pixels with r ≤ R
    std::optional<double> off_disk;  // max|Δ| / max|ref| over compared pixels with r > R
    std::size_t on_px = 0, off_px = 0, limb_bins = 0;
};

// The names measure_pair gives these values in a row's metrics (flux_ratio_minus_1 = |flux_ratio − 1|).
inline constexpr const char* kDiskMetricNames[] = {"flux_ratio", "flux_ratio_minus_1", "limb_profile_error", "on_disk_max_rel", "off_disk_max_rel"};

// `compared` marks the pixels whose values the stage's comparison compared (register: valid in both
// and outside the edge band, compare_register); empty: every pixel finite in both. Shapes must match.
DiskMetrics measure_disk(const Image<double>& out, const Image<double>& ref, const SolarDisk& disk, const std::vector<unsigned char>& compared);

}  // namespace aiaccel::validate
