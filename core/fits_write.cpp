// FITS writer: temp file in the target folder + rename, so a failed or interrupted write never
// leaves a file at the output path. Adds HISTORY (aiaccel + version) and DATASUM/CHECKSUM.
#include <fitsio.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <random>
#include <vector>
#include <algorithm>

#include "aiaccel_config.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "core/fits_util.hpp"
#include "core/stopwatch.hpp"

namespace aiaccel {
namespace fs = std::filesystem;

namespace {

// Hidden, unique name next to the destination (same file system, so rename is atomic).
fs::path temp_path_for(const fs::path& dest) {
    std::random_device rd;
    return dest.parent_path() / fmt::format(".{}.tmp-{}-{:08x}", dest.filename().string(), ::getpid(), rd());
}

// DATASUM and CHECKSUM with fixed comments. CFITSIO's fits_write_chksum stamps the current time into
// both comments, so identical runs would give different bytes; here the comments are rewritten and
// CHECKSUM recomputed as CFITSIO does it (value '0000000000000000', then the encoded complement of
// the HDU's 1's-complement sum), so the values stay valid and the file bytes depend only on the content.
void write_checksums(fitsfile* f, int* status) {
    fits_write_chksum(f, status);  // DATASUM (correct) and both keywords in place
    fits_modify_comment(f, "DATASUM", "data unit checksum", status);
    char zeros[] = "0000000000000000";
    fits_modify_key_str(f, "CHECKSUM", zeros, "HDU checksum", status);
    unsigned long datasum = 0, hdusum = 0;
    fits_get_chksum(f, &datasum, &hdusum, status);
    char ascii[17] = {0};
    fits_encode_chksum(hdusum, TRUE, ascii);
    fits_modify_key_str(f, "CHECKSUM", ascii, "&", status);  // "&": keep the comment
}

void write_to(const fs::path& tmp, const std::string& dest_name, const Image<double>& img, const FitsHeader& header, const WriteOptions& opt) {
    Stopwatch sw;
    const std::string where = tmp.string();
    fitsfile* f = nullptr;
    int status = 0;
    init_cfitsio();
    errno = 0;
    fits_create_diskfile(&f, where.c_str(), &status);
    const int create_errno = errno;
    if (status && (create_errno == EACCES || create_errno == EPERM || create_errno == EROFS))  // a path problem: exit 2
        check_fits(status, dest_name, fmt::format("cannot create a file in the output folder ({})", std::strerror(create_errno)), ErrorKind::usage);
    check_fits(status, dest_name, "cannot create the output file", ErrorKind::write_failed);
    struct Closer {
        fitsfile*& f;
        ~Closer() {
            int s = 0;
            if (f) fits_close_file(f, &s);
        }
    } closer{f};

    int bitpix = opt.dtype == PixelType::f32 ? FLOAT_IMG : opt.dtype == PixelType::i16 ? SHORT_IMG : DOUBLE_IMG;
    if (opt.dtype != PixelType::f32 && opt.dtype != PixelType::f64 && opt.dtype != PixelType::i16)
        throw Error(ErrorKind::internal, "write_fits: only float32, float64 and int16 output are supported");
    if (opt.blank && opt.dtype != PixelType::i16) throw Error(ErrorKind::internal, "write_fits: BLANK applies to int16 output only");
    if (opt.dtype == PixelType::i16) {
        for (double v : img.pixels())
            if (!(v == std::floor(v) && v >= -32768 && v <= 32767))
                throw file_error(ErrorKind::bad_value, dest_name, fmt::format("value {} cannot be stored as int16", v));
    }
    if (opt.compression != Compression::none) {
        long tile[2] = {static_cast<long>(img.cols()), 1};  // one tile per row, as JSOC writes AIA
        fits_set_compression_type(f, opt.compression == Compression::rice ? RICE_1 : GZIP_2, &status);
        fits_set_tile_dim(f, 2, tile, &status);
        if (bitpix < 0) {
            if (opt.compression == Compression::rice) {
                if (!(opt.rice_float_quantize > 0))
                    throw Error(ErrorKind::usage, "RICE compression of float data needs a quantize level > 0 (use gzip for lossless)");
                fits_set_quantize_level(f, opt.rice_float_quantize, &status);
                fits_set_quantize_method(f, SUBTRACTIVE_DITHER_1, &status);
                // Dither seed from the first tile's checksum, not the clock (CFITSIO's default): same input, same bytes.
                fits_set_dither_seed(f, -1, &status);
            } else {
                fits_set_quantize_level(f, 0.0f, &status);  // 0 = no quantisation: lossless GZIP
            }
        }
        check_fits(status, dest_name, "cannot set up tile compression", ErrorKind::write_failed);
    }
    long naxes[2] = {static_cast<long>(img.cols()), static_cast<long>(img.rows())};
    fits_create_img(f, bitpix, 2, naxes, &status);
    check_fits(status, dest_name, "cannot create the image HDU", ErrorKind::write_failed);
    if (opt.blank) {
        LONGLONG blank = *opt.blank;
        fits_write_key(f, TLONGLONG, "BLANK", &blank, "value of missing pixels", &status);
    }
    for (const auto& card : header.cards()) {
        if (is_structural_keyword(card.key)) continue;
        const std::string raw = standard_card(card);
        fits_write_record(f, raw.c_str(), &status);
    }
    if (opt.add_history) {
        std::string h = fmt::format("HISTORY Processed by aiaccel {}", AIACCEL_VERSION);
        fits_write_record(f, h.c_str(), &status);
    }
    check_fits(status, dest_name, "cannot write the header", ErrorKind::write_failed);
    // Convert to the file's type here (round to nearest, as numpy's astype): CFITSIO refuses implicit
    // conversion when compressing, and this keeps plain and compressed output identical.
    const auto n = static_cast<LONGLONG>(img.size());
    if (opt.dtype == PixelType::f64) {
        fits_write_img(f, TDOUBLE, 1, n, const_cast<double*>(img.data()), &status);
    } else if (opt.dtype == PixelType::f32) {
        std::vector<float> buf(img.pixels().begin(), img.pixels().end());
        fits_write_img(f, TFLOAT, 1, n, buf.data(), &status);
    } else {
        std::vector<short> buf(img.size());
        std::transform(img.pixels().begin(), img.pixels().end(), buf.begin(), [](double v) { return static_cast<short>(v); });
        fits_write_img(f, TSHORT, 1, n, buf.data(), &status);
    }
    check_fits(status, dest_name, "cannot write the pixel data (disk full?)", ErrorKind::write_failed);
    if (opt.times) opt.times->write = sw.lap();
    write_checksums(f, &status);
    fits_close_file(f, &status);
    f = nullptr;
    check_fits(status, dest_name, "cannot finish the output file (disk full?)", ErrorKind::write_failed);
    if (opt.times) opt.times->checksum = sw.lap();
}

}  // namespace

void write_fits(const fs::path& path, const Image<double>& img, const FitsHeader& header, const WriteOptions& opt) {
    const std::string name = path.string();
    // Path problems are usage errors (exit 2), found before anything is created; an empty name or a
    // folder name would otherwise show up as the hidden temp file's name.
    if (name.empty()) throw Error(ErrorKind::usage, "the output file name is empty");
    const std::string file = path.filename().string();
    if (file.empty() || file == "." || file == "..") throw file_error(ErrorKind::usage, name, "names a folder, not an output file");
    if (img.rows() == 0 || img.cols() == 0)
        throw file_error(ErrorKind::bad_value, name, fmt::format("refusing to write an empty {}x{} px image", img.cols(), img.rows()));
    std::error_code ec;
    fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    if (!fs::is_directory(dir, ec)) throw file_error(ErrorKind::usage, name, "the output folder does not exist");
    if (fs::is_directory(path, ec)) throw file_error(ErrorKind::usage, name, "is a folder, not an output file");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw file_error(ErrorKind::usage, name, fmt::format("cannot write to the output folder {} ({})", dir.string(), std::strerror(errno)));
    const fs::path tmp = temp_path_for(dir / path.filename());
    try {
        write_to(tmp, name, img, header, opt);
        Stopwatch sw;
        fs::rename(tmp, path);
        if (opt.times) opt.times->rename = sw.lap();
    } catch (const Error&) {
        fs::remove(tmp, ec);
        throw;
    } catch (const std::bad_alloc&) {
        fs::remove(tmp, ec);
        throw;
    } catch (const fs::filesystem_error& e) {
        fs::remove(tmp, ec);
        throw file_error(ErrorKind::write_failed, name, fmt::format("cannot move the finished file into place ({})", e.code().message()));
    } catch (const std::exception& e) {
        fs::remove(tmp, ec);
        throw file_error(ErrorKind::write_failed, name, e.what());
    }
}

bool verify_fits_checksum(const std::string& path) {
    // The shared pre-check, so a hostile file never reaches CFITSIO here either (prep --resume).
    // A file the pre-check refuses (truncated, hostile) does not verify.
    try {
        const FitsLayout l = fits_precheck(path, true);
        return l.datasum == SumState::ok && l.checksum == SumState::ok;
    } catch (const Error&) { return false; }
}

}  // namespace aiaccel
