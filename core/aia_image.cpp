// load_aia and pixel statistics.
#include "core/aia_image.hpp"

#include <cmath>
#include <limits>

namespace aiaccel {

AiaImage load_aia(const std::string& path, const ReadOptions& opt) {
    FitsImage f = read_fits(path, opt);
    AiaImage img{path, f.dtype, std::move(f.header), std::move(f.data)};
    (void)img.aia().channel();  // throws not_aia / missing_keyword with the file name
    // A DATE-OBS that is there must be a date: outputs are named and labelled after it.
    if (img.header.has("DATE-OBS")) (void)img.aia().date_obs();
    // Likewise RSUN_OBS: it sizes the full-disk check and the output's R_SUN.
    if (img.header.has("RSUN_OBS")) (void)img.aia().rsun_obs();
    return img;
}

PixelStats pixel_stats(const Image<double>& img) {
    PixelStats s;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -s.min;
    long double sum = 0;
    for (double v : img.pixels()) {
        if (std::isnan(v)) {
            ++s.nan_count;
            continue;
        }
        if (!std::isfinite(v)) continue;
        ++s.finite_count;
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
        sum += v;
    }
    s.mean = s.finite_count ? static_cast<double>(sum / s.finite_count) : std::numeric_limits<double>::quiet_NaN();
    if (!s.finite_count) s.min = s.max = std::numeric_limits<double>::quiet_NaN();
    return s;
}

}  // namespace aiaccel
