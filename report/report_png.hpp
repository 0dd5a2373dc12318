// PNG encoding for the report's embedded images (libspng), base64 and data: URIs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace aiaccel::validate::report {

// 8-bit pixels, row-major, top row first; channels 1 (grey) or 3 (RGB).
struct Raster {
    std::size_t width = 0, height = 0;
    int channels = 1;
    std::vector<std::uint8_t> pixels;  // width * height * channels
};

// Throws aiaccel::Error(internal) when the raster is inconsistent or libspng refuses it.
std::vector<std::uint8_t> encode_png(const Raster& r);
// Decodes a PNG to 8-bit grey or RGB as stored (used by the tests to check round trips).
Raster decode_png(std::span<const std::uint8_t> png);

std::string base64(std::span<const std::uint8_t> bytes);
std::string png_data_uri(const Raster& r);  // "data:image/png;base64,..."
std::string png_data_uri(std::span<const std::uint8_t> png);

}  // namespace aiaccel::validate::report
