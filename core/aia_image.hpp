// AiaImage: an AIA image as the stages see it — pixels + header + the dtype astropy would give.
// load_aia() reads a FITS file and checks it is an AIA image of a known channel.
#pragma once

#include <string>

#include "core/aia_header.hpp"
#include "core/fits_io.hpp"
#include "core/image.hpp"

namespace aiaccel {

struct AiaImage {
    std::string path;
    PixelType dtype = PixelType::f64;
    FitsHeader header;
    Image<double> data;

    AiaHeader aia() { return AiaHeader(header, path); }
    AiaHeader aia() const { return AiaHeader(const_cast<FitsHeader&>(header), path); }
};

// Reads and checks: 2-D, INSTRUME AIA*, WAVELNTH a known channel. Errors name file and problem.
AiaImage load_aia(const std::string& path, const ReadOptions& opt = {});

struct PixelStats {
    double min = 0, max = 0, mean = 0;
    std::size_t nan_count = 0, finite_count = 0;
};
PixelStats pixel_stats(const Image<double>& img);  // NaN-ignoring; min/max/mean of finite pixels

}  // namespace aiaccel
