// AiaHeader implementation.
#include "core/aia_header.hpp"

#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "core/error.hpp"

namespace aiaccel {

double AiaHeader::require(const char* key) const {
    if (!h_->has(key)) throw file_error(ErrorKind::missing_keyword, path_, fmt::format("missing keyword {}", key));
    auto v = h_->get_double(key);
    if (!v)
        throw file_error(ErrorKind::missing_keyword, path_, fmt::format("keyword {} is not a number ('{}')", key, h_->get_text(key).value_or("")));
    if (!std::isfinite(*v)) throw file_error(ErrorKind::bad_value, path_, fmt::format("keyword {} is not finite", key));
    return *v;
}

std::string AiaHeader::require_string(const char* key) const {
    auto v = h_->get_string(key);
    if (!v || v->empty()) throw file_error(ErrorKind::missing_keyword, path_, fmt::format("missing keyword {}", key));
    return *v;
}

namespace {

bool iso_datetime(const std::string& s) {
    auto digits = [&](std::size_t at, std::size_t n, int lo, int hi) {
        if (at + n > s.size()) return false;
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            v = v * 10 + (s[i] - '0');
        }
        return v >= lo && v <= hi;
    };
    if (!digits(0, 4, 0, 9999) || s.size() < 10 || s[4] != '-' || !digits(5, 2, 1, 12) || s[7] != '-' || !digits(8, 2, 1, 31)) return false;
    if (s.size() == 10) return true;
    if ((s[10] != 'T' && s[10] != ' ') || !digits(11, 2, 0, 23) || s.size() < 19 || s[13] != ':' || !digits(14, 2, 0, 59) || s[16] != ':' ||
        !digits(17, 2, 0, 60))
        return false;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        const std::size_t f = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == f) return false;
    }
    if (i < s.size() && s[i] == 'Z') ++i;
    return i == s.size();
}

}  // namespace

std::string AiaHeader::date_obs() const {
    std::string v = require_string("DATE-OBS");
    if (!iso_datetime(v))
        throw file_error(ErrorKind::bad_value, path_,
                         fmt::format("keyword DATE-OBS is not an ISO 8601 date-time ('{}', expected e.g. 2012-06-06T04:07:29.12)", v));
    return v;
}

bool AiaHeader::is_aia() const {
    auto ins = h_->get_string("INSTRUME");
    return ins && ins->rfind("AIA", 0) == 0;
}

Channel AiaHeader::channel() const {
    if (!is_aia())
        throw file_error(ErrorKind::not_aia, path_,
                         fmt::format("not an AIA image (INSTRUME = '{}', expected 'AIA_n')", h_->get_string("INSTRUME").value_or("")));
    double w = wavelength();
    auto c = find_channel(w);
    if (!c) throw file_error(ErrorKind::not_aia, path_, fmt::format("unknown AIA channel WAVELNTH = {} (known: {} Å)", w, known_channels_text()));
    return *c;
}

Matrix2 AiaHeader::rotation_matrix() const {
    auto val = [&](const char* k, double dflt) { return h_->has(k) ? require(k) : dflt; };
    if (h_->has("PC1_1") || h_->has("PC1_2") || h_->has("PC2_1") || h_->has("PC2_2"))
        return {{{val("PC1_1", 1), val("PC1_2", 0)}, {val("PC2_1", 0), val("PC2_2", 1)}}};
    const double c1 = cdelt1(), c2 = cdelt2();
    if (h_->has("CD1_1") || h_->has("CD1_2") || h_->has("CD2_1") || h_->has("CD2_2"))
        return {{{val("CD1_1", 0) / c1, val("CD1_2", 0) / c1}, {val("CD2_1", 0) / c2, val("CD2_2", 0) / c2}}};
    // _rotation_matrix_from_crota: lam = cdelt2 / cdelt1, p = np.deg2rad(crota2).
    const double lam = c2 / c1, p = val("CROTA2", 0.0) * (std::numbers::pi / 180.0);
    return {{{std::cos(p), (-1 * lam) * std::sin(p)}, {(1 / lam) * std::sin(p), std::cos(p)}}};
}

double AiaHeader::rotation_deg() const {
    Matrix2 m = rotation_matrix();
    return std::atan2(m[1][0], m[0][0]) * (180.0 / std::numbers::pi);
}

double AiaHeader::rsun_obs() const {
    if (auto v = optional("RSUN_OBS")) {
        // The Sun's radius sizes the full-disk check and the output's R_SUN: a non-finite or
        // non-positive value is a corrupt header, not a number to carry on with.
        if (!std::isfinite(*v) || *v <= 0)
            throw file_error(ErrorKind::bad_value, path_, fmt::format("keyword RSUN_OBS = {} is not a positive finite radius (arcsec)", *v));
        return *v;
    }
    // sunpy falls back to the solar radius seen from DSUN_OBS (RSUN_REF = 695700 km).
    if (auto d = dsun_obs()) return std::atan(6.957e8 / *d) * (180.0 / std::numbers::pi) * 3600.0;
    throw file_error(ErrorKind::missing_keyword, path_, "missing keywords RSUN_OBS and DSUN_OBS");
}

double AiaHeader::observer_distance_m() const {
    auto x = optional("HAEX_OBS"), y = optional("HAEY_OBS"), z = optional("HAEZ_OBS");
    if (x && y && z) return std::sqrt(*x * *x + *y * *y + *z * *z);
    if (auto d = optional("DSUN_OBS"); d && ((h_->has("HGLN_OBS") && h_->has("HGLT_OBS")) || (h_->has("CRLN_OBS") && h_->has("CRLT_OBS")))) return *d;
    throw file_error(ErrorKind::missing_keyword, path_,
                     "no observer location: need HAEX_OBS/HAEY_OBS/HAEZ_OBS, or HGLN_OBS/HGLT_OBS/DSUN_OBS, or CRLN_OBS/CRLT_OBS/DSUN_OBS");
}

double AiaHeader::rsun_meters(double dsun) const {
    if (auto r = optional("RSUN_REF")) return *r;
    for (const char* k : {"RSUN_OBS", "SOLAR_R", "RADIUS"})
        if (auto a = optional(k)) return std::sin(*a / 3600.0 * (std::numbers::pi / 180.0)) * dsun;
    return 695700000.0;
}

std::string AiaHeader::pointing_keys_present() const {
    std::string s;
    for (const char* k : pointing_keys) {
        if (!h_->has(k)) continue;
        if (!s.empty()) s += ' ';
        s += k;
    }
    return s;
}

std::array<double, 2> AiaHeader::sun_centre_px() const {
    // world (Tx, Ty) = M · diag(cdelt) · (p − crpix0) + crval (small-angle form); solve for (0, 0).
    Matrix2 m = rotation_matrix();
    const double a = m[0][0] * cdelt1(), b = m[0][1] * cdelt2(), c = m[1][0] * cdelt1(), d = m[1][1] * cdelt2();
    const double det = a * d - b * c;
    const double wx = -crval1(), wy = -crval2();
    const double dx = (d * wx - b * wy) / det, dy = (-c * wx + a * wy) / det;
    return {crpix1() - 1.0 + dx, crpix2() - 1.0 + dy};
}

}  // namespace aiaccel
