// Header pre-check run on every FITS input before CFITSIO touches it (and before any allocation
// sized from the header): the file must be a regular file, every HDU up to the image must have a
// well-formed header whose data fits in the file (overflow-safe size arithmetic), the image must
// be at most kMaxFrameSide pixels a side, and a tile-compressed image must carry only parameters
// CFITSIO's decoders handle safely (ZCMPTYPE, ZBITPIX, ZNAXISn, ZTILEn, ZVALn, ZQUANTIZ, ZDITHER0,
// TFORMn, PCOUNT/THEAP and every tile descriptor inside the heap). Optionally verifies the
// DATASUM/CHECKSUM of the image HDU (FITS checksum convention: 32-bit ones' complement sums).
// Error(unreadable / unsupported / bad_value) naming the file on the first problem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aiaccel {

// Largest accepted image side (AIA frames are 4096 x 4096).
inline constexpr long long kMaxFrameSide = 16384;

enum class SumState { not_checked, absent, ok, mismatch };
std::string_view to_string(SumState s);  // "not checked", "absent", "ok", "MISMATCH"

struct FitsLayout {
    int hdu = 0;  // 0-based index of the image HDU (as read_fits chooses it)
    bool compressed = false;  // tile-compressed image in a binary table
    int bitpix = 0;  // BITPIX, or ZBITPIX when compressed
    std::vector<long long> axes;  // NAXISn, or ZNAXISn when compressed
    std::uint64_t data_start = 0;  // byte offset of the image HDU's data unit
    std::uint64_t data_bytes = 0;  // its size (table + heap when compressed), without padding
    SumState datasum = SumState::not_checked;  // DATASUM against the data unit
    SumState checksum = SumState::not_checked;  // CHECKSUM over the whole HDU
    std::string sum_detail;  // e.g. "DATASUM 123 in the header, the data sum to 456"
    double sums_seconds = 0;  // time spent computing the checksum states
};

// Throws Error naming `path` if the file may not be given to CFITSIO; with `checksums`, also
// computes the checksum states (a mismatch is reported in the result, not thrown). Without
// `tile_streams`, RICE tiles' bit streams are not decoded (their descriptors still are checked): for
// callers that read headers only with this project's parser, never CFITSIO on the data (prep's
// header step, whose input then goes through read_fits and its full pre-check).
FitsLayout fits_precheck(const std::string& path, bool checksums = false, bool tile_streams = true);

}  // namespace aiaccel
