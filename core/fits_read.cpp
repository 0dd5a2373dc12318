// FITS reader: CFITSIO decodes (incl. RICE tiles), astropy's rules decide the dtype and values.
// Mirrors astropy.io.fits ImageHDU/CompImageHDU data conversion (astropy >= 6.1.2) as used by
// sunpy.map.Map; see fits_io.hpp for the rules and docs/algorithms.md §6 for why.
#include <fitsio.h>

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "core/fits_util.hpp"
#include "core/stopwatch.hpp"

namespace aiaccel {

std::string_view to_string(PixelType t) {
    switch (t) {
        case PixelType::u8: return "uint8";
        case PixelType::i16: return "int16";
        case PixelType::i32: return "int32";
        case PixelType::f32: return "float32";
        case PixelType::f64: return "float64";
    }
    return "?";
}

namespace {

template <class Raw, class Flt>
void convert_scaled(const std::vector<Raw>& raw, Image<double>& out, double bscale, double bzero, std::optional<long long> blank) {
    const bool scale = bscale != 1.0, shift = bzero != 0.0;
    const Flt fs = static_cast<Flt>(bscale), fz = static_cast<Flt>(bzero);
    double* o = out.data();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (blank && static_cast<long long>(raw[i]) == *blank) {
            o[i] = std::numeric_limits<double>::quiet_NaN();
            continue;
        }
        Flt v = static_cast<Flt>(raw[i]);
        if (scale) v = v * fs;
        if (shift) v = v + fz;
        o[i] = static_cast<double>(v);
    }
}

template <class Raw>
std::vector<Raw> read_raw(fitsfile* f, int datatype, std::size_t n, const std::string& path) {
    std::vector<Raw> buf(n);
    int status = 0, anynul = 0;
    fits_read_img(f, datatype, 1, static_cast<LONGLONG>(n), nullptr, buf.data(), &anynul, &status);
    check_fits(status, path, "truncated or corrupt pixel data");
    return buf;
}

}  // namespace

FitsImage read_fits(const std::string& path, const ReadOptions& opt) {
    Stopwatch sw;
    const FitsLayout layout = fits_precheck(path, opt.verify_checksum);
    if (opt.times) {
        opt.times->checksum = layout.sums_seconds;
        opt.times->precheck = sw.lap() - layout.sums_seconds;
    }
    FitsImage img;
    img.path = path;
    img.datasum = layout.datasum;
    img.checksum = layout.checksum;
    img.checksum_detail = layout.sum_detail;
    if (opt.refuse_mismatch && (layout.datasum == SumState::mismatch || layout.checksum == SumState::mismatch))
        throw file_error(ErrorKind::bad_value, path,
                         fmt::format("checksum mismatch, the file is corrupt: {} (--no-verify-checksum reads it anyway)", layout.sum_detail));

    FitsFile file(path);
    fitsfile* f = file.get();
    int status = 0, naxis = 0, type = 0;
    long naxes[9] = {0};
    const int hdu = layout.hdu;  // the HDU the pre-check validated, never another one
    fits_movabs_hdu(f, hdu + 1, &type, &status);
    check_fits(status, path, fmt::format("cannot read HDU {} (truncated file?)", hdu));
    fits_get_img_param(f, 9, &img.file_bitpix, &naxis, naxes, &status);
    check_fits(status, path, fmt::format("cannot read the image parameters of HDU {}", hdu));
    if (naxis != 2) {
        std::string dims;
        for (int i = 0; i < naxis; ++i) dims += fmt::format("{}{}", i ? "x" : "", naxes[i]);
        throw file_error(ErrorKind::unsupported, path, fmt::format("image is {}-D ({}), expected a 2-D image", naxis, dims));
    }
    img.hdu = hdu;
    img.compressed = fits_is_compressed_image(f, &status) != 0;

    // Header cards, verbatim, minus the structural/compression ones the writer regenerates.
    int nkeys = 0;
    fits_get_hdrspace(f, &nkeys, nullptr, &status);
    check_fits(status, path, "cannot read the header");
    double bscale = 1.0, bzero = 0.0;
    std::optional<long long> blank;
    for (int k = 1; k <= nkeys; ++k) {
        char card[FLEN_CARD] = {0};
        fits_read_record(f, k, card, &status);
        check_fits(status, path, "corrupt header card");
        FitsHeader one;
        one.add_raw(card);
        const std::string& key = one.cards().front().key;
        if (key == "BSCALE")
            bscale = one.get_double("BSCALE").value_or(1.0);
        else if (key == "BZERO")
            bzero = one.get_double("BZERO").value_or(0.0);
        else if (key == "BLANK" || (key == "ZBLANK" && !blank)) {
            auto b = one.get_double(key);
            if (b) blank = static_cast<long long>(*b);
        }
        if (key == "EXTNAME" && img.compressed && one.get_string("EXTNAME") == "COMPRESSED_IMAGE") continue;  // astropy hides it
        if (!is_structural_keyword(key)) img.header.add_raw(card);
    }

    const std::size_t cols = static_cast<std::size_t>(naxes[0]), rows = static_cast<std::size_t>(naxes[1]);
    const std::size_t n = rows * cols;
    img.data = Image<double>(rows, cols);
    fits_set_bscale(f, 1.0, 0.0, &status);  // decode raw; scaling is applied below, as astropy does
    check_fits(status, path, "cannot disable CFITSIO scaling");

    const bool is_int = img.file_bitpix > 0;
    const bool convert = is_int && (blank || bscale != 1.0 || bzero != 0.0);
    switch (img.file_bitpix) {
        case BYTE_IMG: {
            auto raw = read_raw<unsigned char>(f, TBYTE, n, path);
            if (convert) {
                img.dtype = PixelType::f32;
                convert_scaled<unsigned char, float>(raw, img.data, bscale, bzero, blank);
            } else {
                img.dtype = PixelType::u8;
                std::copy(raw.begin(), raw.end(), img.data.data());
            }
            break;
        }
        case SHORT_IMG: {
            auto raw = read_raw<short>(f, TSHORT, n, path);
            if (convert) {
                img.dtype = PixelType::f32;
                convert_scaled<short, float>(raw, img.data, bscale, bzero, blank);
            } else {
                img.dtype = PixelType::i16;
                std::copy(raw.begin(), raw.end(), img.data.data());
            }
            break;
        }
        case LONG_IMG: {
            auto raw = read_raw<int>(f, TINT, n, path);
            if (convert) {
                img.dtype = PixelType::f64;
                convert_scaled<int, double>(raw, img.data, bscale, bzero, blank);
            } else {
                img.dtype = PixelType::i32;
                std::copy(raw.begin(), raw.end(), img.data.data());
            }
            break;
        }
        case FLOAT_IMG: {
            auto raw = read_raw<float>(f, TFLOAT, n, path);
            img.dtype = PixelType::f32;
            std::copy(raw.begin(), raw.end(), img.data.data());
            break;
        }
        case DOUBLE_IMG: {  // straight into the image: no staging copy
            int anynul = 0;
            fits_read_img(f, TDOUBLE, 1, static_cast<LONGLONG>(n), nullptr, img.data.data(), &anynul, &status);
            check_fits(status, path, "truncated or corrupt pixel data");
            img.dtype = PixelType::f64;
            break;
        }
        default:
            throw file_error(ErrorKind::unsupported, path, fmt::format("unsupported BITPIX {} (supported: 8, 16, 32, -32, -64)", img.file_bitpix));
    }
    // Float data with BSCALE/BZERO (not seen in AIA files): astropy applies them in the data's type.
    if (!is_int && (bscale != 1.0 || bzero != 0.0)) {
        for (double& v : img.data.pixels()) {
            if (img.dtype == PixelType::f32)
                v = static_cast<float>(static_cast<float>(v) * static_cast<float>(bscale) + static_cast<float>(bzero));
            else
                v = v * bscale + bzero;
        }
    }
    if (opt.times) opt.times->decode = sw.lap();
    return img;
}

}  // namespace aiaccel
