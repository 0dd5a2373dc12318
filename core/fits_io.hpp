// FITS reading and writing through CFITSIO, with astropy's semantics for what the pixels become.
//
// Reading (mirrors astropy.io.fits >= 6.1.2, which sunpy.map.Map uses; docs/algorithms.md §6):
//  * The image is the primary HDU if it has data, else the first image extension (an AIA level-1
//    file is an empty primary HDU + a RICE tile-compressed image in HDU 1).
//  * Pixels are decoded raw (no CFITSIO scaling, no null checking) and converted as astropy does:
//      - float data (BITPIX -32/-64, incl. quantised compressed floats): kept; BLANK ignored.
//      - integer data with BLANK or non-trivial BSCALE/BZERO: float32 for BITPIX 8/16, float64 for
//        32/64; value = float(raw) * BSCALE + BZERO, each step in that float type, only when the
//        scale is non-trivial; pixels equal to BLANK become NaN.
//      - other integer data: kept as integers (dtype int16/int32/uint8).
//  * Values are stored in Image<double> (every dtype above is exactly representable) together with
//    the dtype numpy would report, so later stages can round exactly as aiapy does.
// Writing: float32/float64/int16 pixels, optional RICE (lossless for int16; float data are
// quantised as JSOC does, see WriteOptions) or GZIP tile compression, HISTORY naming aiaccel,
// DATASUM/CHECKSUM, always through a temporary file in the target folder renamed into place.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/fits_header.hpp"
#include "core/fits_precheck.hpp"
#include "core/image.hpp"

namespace aiaccel {

enum class PixelType { u8, i16, i32, f32, f64 };
std::string_view to_string(PixelType t);  // numpy names: "uint8", "int16", "int32", "float32", "float64"

struct FitsImage {
    std::string path;  // as given by the caller, for messages
    int hdu = 0;  // 0-based HDU index the image came from
    bool compressed = false;  // tile-compressed in the file
    int file_bitpix = 0;  // BITPIX (or ZBITPIX) as stored
    PixelType dtype = PixelType::f64;  // what astropy returns
    FitsHeader header;  // non-structural cards, verbatim
    Image<double> data;  // pixel values (exact for every dtype)
    SumState datasum = SumState::not_checked;  // DATASUM of the image HDU (the table HDU if compressed)
    SumState checksum = SumState::not_checked;  // CHECKSUM of that HDU
    std::string checksum_detail;  // what did not verify, for messages
};

// Where a read's time goes (steady-clock seconds): prep's per-image budget (docs/architecture.md §4).
struct ReadTimes {
    double precheck = 0;  // fits_precheck: headers, tile descriptors, every RICE tile's bounds
    double checksum = 0;  // DATASUM/CHECKSUM verification
    double decode = 0;  // CFITSIO: header cards, tile decompression, conversion to double
};

struct ReadOptions {
    bool verify_checksum = true;  // compute DATASUM/CHECKSUM when present
    bool refuse_mismatch = true;  // and throw Error(bad_value) if either does not verify
    ReadTimes* times = nullptr;  // filled when given
};

// Runs fits_precheck() first, so a malformed or hostile header is refused before CFITSIO reads it.
FitsImage read_fits(const std::string& path, const ReadOptions& opt = {});

enum class Compression { none, rice, gzip };

// Where a write's time goes (steady-clock seconds).
struct WriteTimes {
    double write = 0;  // create, header, conversion to the file's type and byte order, pixels
    double checksum = 0;  // DATASUM/CHECKSUM computed and written, file closed
    double rename = 0;  // the finished temporary file renamed into place
};

struct WriteOptions {
    PixelType dtype = PixelType::f64;  // f32, f64 or i16 (values must then be integers)
    Compression compression = Compression::none;
    // RICE on float data quantises (lossy) with this level (CFITSIO's q, SUBTRACTIVE_DITHER_1),
    // as JSOC level-1.5 products are stored; 0 is refused for RICE floats (use gzip for lossless).
    float rice_float_quantize = 16.0f;
    bool add_history = true;  // HISTORY card naming aiaccel and its version
    std::optional<long long> blank;  // int16 output only: the BLANK keyword (pixels equal to it are missing)
    WriteTimes* times = nullptr;  // filled when given
};

// Writes `img` + `header` to `path` atomically: the file either appears complete (with DATASUM and
// CHECKSUM) or not at all; an existing file at `path` is replaced only on success.
void write_fits(const std::filesystem::path& path, const Image<double>& img, const FitsHeader& header, const WriteOptions& opt = {});

// Verifies DATASUM/CHECKSUM of the image HDU (through fits_precheck); false if absent or wrong,
// Error if the pre-check refuses the file.
bool verify_fits_checksum(const std::string& path);

}  // namespace aiaccel
