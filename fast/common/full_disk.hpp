// sunpy.map.maputils.contains_full_disk (sunpy 7.0.5) for the fast CPU backend, analytic: instead of
// projecting all 4N edge pixels (docs/algorithms.md §4), it uses that a straight image edge is a great
// circle under the gnomonic (TAN) projection, so the angular distance from the Sun centre along an
// edge falls and then rises: a search over the pixel index finds each edge's closest pixel in
// O(log N) projections, and the on-disk pixels (a contiguous run around it) by bisection.
#pragma once

#include <cstddef>

#include "core/aia_image.hpp"

namespace aiaccel::cpu {

struct FullDiskResult {
    bool full_disk = false;
    double margin_arcsec = 0;  // min over edge pixels of (angular distance from Sun centre − solar radius)
    bool sun_centre_inside = false;
    std::size_t edge_pixels_on_disk = 0;  // over the four edges, corners counted twice (as sunpy lists them)
};

// Throws Error(unsupported / missing_keyword / bad_value) naming the file for non-TAN or
// non-helioprojective maps, unknown units, no observer location, or a singular WCS matrix.
FullDiskResult contains_full_disk_cpu(const AiaImage& img);

}  // namespace aiaccel::cpu
