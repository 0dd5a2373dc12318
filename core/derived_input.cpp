// 2×2 replicated full-resolution input (see derived_input.hpp and testdata/golden/DERIVED.md).
#include "core/derived_input.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace aiaccel {

AiaImage derive_full_res_2x(const AiaImage& src) {
    if (src.data.rows() != 2048 || src.data.cols() != 2048)
        throw file_error(ErrorKind::bad_value, src.path,
                         fmt::format("derived input needs a 2048x2048 source, got {}x{}", src.data.cols(), src.data.rows()));
    AiaImage out;
    out.path = src.path + " [" + kDerived1600Label + "]";
    out.dtype = src.dtype;
    out.header = src.header;
    out.data = Image<double>(4096, 4096);
    for (std::size_t i = 0; i < 4096; ++i)
        for (std::size_t j = 0; j < 4096; ++j) out.data(i, j) = src.data(i / 2, j / 2);
    AiaHeader h = src.aia();
    for (int ax = 1; ax <= 2; ++ax) {
        const std::string cd = fmt::format("CDELT{}", ax), cp = fmt::format("CRPIX{}", ax);
        out.header.set_double(cd, h.require(cd.c_str()) / 2.0);
        out.header.set_double(cp, 2.0 * (h.require(cp.c_str()) - 0.5) + 0.5);
    }
    out.header.set_string("DERIVED", "2x2 replication of 2048^2 lowres 1600A file; NOT a real observation");
    out.header.add_history("DERIVED by aiaccel: 2x2 pixel replication to 4096x4096; CDELT/2, CRPIX'=2*(CRPIX-0.5)+0.5. NOT a real observation.");
    return out;
}

AiaImage derive_int16_counts(const AiaImage& src) {
    AiaImage out;
    out.path = src.path + " [int16]";
    out.dtype = PixelType::i16;
    out.header = src.header;
    out.data = Image<double>(src.data.rows(), src.data.cols());
    const double* in = src.data.data();
    double* o = out.data.data();
    for (std::size_t i = 0; i < src.data.size(); ++i) {
        if (std::isnan(in[i])) throw file_error(ErrorKind::bad_value, src.path, "derive_int16_counts: NaN pixel");
        o[i] = in[i] == -32768.0 ? -32768.0 : std::clamp(std::nearbyint(in[i]), -32767.0, 32767.0);
    }
    out.header.add_history("DERIVED by aiaccel: stored as int16 counts (rounded to nearest; -32768 = BLANK, missing), as level-1 files are.");
    return out;
}

FitsHeader synthetic_aia_header(double cdelt, double crpix, double crota2) {
    FitsHeader h;
    h.set_string("INSTRUME", "AIA_3");
    h.set_double("WAVELNTH", 171);
    h.set_string("CTYPE1", "HPLN-TAN");
    h.set_string("CTYPE2", "HPLT-TAN");
    h.set_string("CUNIT1", "arcsec");
    h.set_string("CUNIT2", "arcsec");
    h.set_double("CDELT1", cdelt);
    h.set_double("CDELT2", cdelt);
    h.set_double("CRPIX1", crpix);
    h.set_double("CRPIX2", crpix);
    h.set_double("CRVAL1", 0.0);
    h.set_double("CRVAL2", 0.0);
    h.set_double("CROTA2", crota2);
    h.set_double("DSUN_OBS", 1.496e11);
    h.set_double("HGLN_OBS", 0.0);
    h.set_double("HGLT_OBS", 0.0);
    h.set_double("RSUN_REF", 696000000.0);
    h.set_double("RSUN_OBS", 959.6);
    h.set_double("LVL_NUM", 1.0);
    return h;
}

}  // namespace aiaccel
