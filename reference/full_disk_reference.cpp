// sunpy.map.maputils.contains_full_disk (sunpy 7.0.5), reference port: every edge pixel off the disk
// (coordinate_is_on_solar_disk: arccos(cos Tx · cos Ty) ≤ arcsin(R☉ / d), so the limb itself counts
// as disk) and the Sun centre inside the map (contains_solar_center: world_to_pixel(0″, 0″) within
// [−0.5, n − 0.5]). The world coordinates come from the map's gnomonic (TAN) WCS the way wcslib
// computes them (Calabretta & Greisen 2002, zenithal projection with LONPOLE 180°). The observer
// distance is taken as sunpy's AIAMap takes it (HAE cartesian position first; its transformation to
// Stonyhurst is a pure rotation, so the distance is its norm), R☉ from RSUN_REF. docs/algorithms.md §4.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "core/error.hpp"
#include "reference/register_reference.hpp"

namespace aiaccel::reference {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

double unit_to_deg(const std::string& unit, const std::string& path, const char* key) {
    if (unit == "arcsec") return 1.0 / 3600.0;
    if (unit == "arcmin") return 1.0 / 60.0;
    if (unit == "deg") return 1.0;
    throw file_error(ErrorKind::unsupported, path, fmt::format("{} = '{}' is not supported (expected arcsec, arcmin or deg)", key, unit));
}

// The map's WCS: pixel (0-based x, y) ↔ helioprojective (Tx, Ty) in degrees.
struct TanWcs {
    double crpix[2], crval[2];  // crval in degrees
    double m[2][2];  // CDELTi · PCi_j in degrees per pixel
    double minv[2][2];

    // Pixel → native spherical (phi, theta) → celestial (lon, lat), wcslib's prjx2s + sphx2s.
    void pixel_to_world(double x, double y, double& lon, double& lat) const {
        const double dx = (x + 1) - crpix[0], dy = (y + 1) - crpix[1];
        const double ix = m[0][0] * dx + m[0][1] * dy, iy = m[1][0] * dx + m[1][1] * dy;
        const double r = std::hypot(ix, iy);
        const double phi = r == 0 ? 0.0 : std::atan2(ix, -iy);  // radians
        const double theta = std::atan2(180.0 / std::numbers::pi, r);  // radians
        // Native pole at (crval1, crval2), LONPOLE φp = 180°.
        const double a0 = crval[0] * kDeg, d0 = crval[1] * kDeg;
        const double dphi = phi - std::numbers::pi;
        const double sl = std::sin(theta) * std::sin(d0) + std::cos(theta) * std::cos(d0) * std::cos(dphi);
        lat = std::asin(std::clamp(sl, -1.0, 1.0)) / kDeg;
        const double ya = -std::cos(theta) * std::sin(dphi);
        const double xa = std::sin(theta) * std::cos(d0) - std::cos(theta) * std::sin(d0) * std::cos(dphi);
        lon = (a0 + std::atan2(ya, xa)) / kDeg;
        lon = std::fmod(lon + 540.0, 360.0) - 180.0;  // Tx is a longitude wrapped at 180°
    }

    // Celestial (lon, lat) degrees → pixel (0-based), wcslib's sphs2x + prjs2x + inverse linear part.
    void world_to_pixel(double lon, double lat, double& x, double& y) const {
        const double a = lon * kDeg, d = lat * kDeg, a0 = crval[0] * kDeg, d0 = crval[1] * kDeg;
        const double da = a - a0;
        const double phi =
            std::numbers::pi + std::atan2(-std::cos(d) * std::sin(da), std::sin(d) * std::cos(d0) - std::cos(d) * std::sin(d0) * std::cos(da));
        const double theta = std::asin(std::clamp(std::sin(d) * std::sin(d0) + std::cos(d) * std::cos(d0) * std::cos(da), -1.0, 1.0));
        const double rr = (180.0 / std::numbers::pi) * std::cos(theta) / std::sin(theta);
        const double ix = rr * std::sin(phi), iy = -rr * std::cos(phi);
        x = crpix[0] + minv[0][0] * ix + minv[0][1] * iy - 1;
        y = crpix[1] + minv[1][0] * ix + minv[1][1] * iy - 1;
    }
};

TanWcs make_wcs(const AiaImage& img) {
    const AiaHeader h = img.aia();
    const std::string& path = img.path;
    const std::string c1 = h.fits().get_string("CTYPE1").value_or(""), c2 = h.fits().get_string("CTYPE2").value_or("");
    if (c1.rfind("HPLN", 0) != 0 || c2.rfind("HPLT", 0) != 0)
        throw file_error(
            ErrorKind::unsupported, path,
            fmt::format("CTYPE1/2 = '{}'/'{}' is not helioprojective (HPLN-…/HPLT-…); contains_full_disk needs a helioprojective map", c1, c2));
    if (c1 != "HPLN-TAN" || c2 != "HPLT-TAN")
        throw file_error(ErrorKind::unsupported, path, fmt::format("projection '{}'/'{}' is not supported (only TAN)", c1, c2));
    if (auto lp = h.optional("LONPOLE"); lp && *lp != 180.0)
        throw file_error(ErrorKind::unsupported, path, fmt::format("LONPOLE = {} is not supported (only the default 180)", *lp));
    const double u1 = unit_to_deg(h.cunit1(), path, "CUNIT1"), u2 = unit_to_deg(h.cunit2(), path, "CUNIT2");
    Matrix2 pc;
    if (h.fits().has("PC1_1") || h.fits().has("PC1_2") || h.fits().has("PC2_1") || h.fits().has("PC2_2")) {
        pc = {
            {{h.optional("PC1_1").value_or(1), h.optional("PC1_2").value_or(0)}, {h.optional("PC2_1").value_or(0), h.optional("PC2_2").value_or(1)}}};
    } else {
        pc = h.rotation_matrix();  // from CROTA2 (sunpy builds the WCS PC matrix from its rotation_matrix)
    }
    TanWcs w{};
    w.crpix[0] = h.crpix1();
    w.crpix[1] = h.crpix2();
    w.crval[0] = h.crval1() * u1;
    w.crval[1] = h.crval2() * u2;
    const double cd[2] = {h.cdelt1() * u1, h.cdelt2() * u2};
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) w.m[i][j] = cd[i] * pc[i][j];
    const double det = w.m[0][0] * w.m[1][1] - w.m[0][1] * w.m[1][0];
    if (det == 0 || !std::isfinite(det)) throw file_error(ErrorKind::bad_value, path, "the WCS matrix CDELT·PC is singular");
    w.minv[0][0] = w.m[1][1] / det;
    w.minv[0][1] = -w.m[0][1] / det;
    w.minv[1][0] = -w.m[1][0] / det;
    w.minv[1][1] = w.m[0][0] / det;
    return w;
}

// Observer–Sun distance in metres, in sunpy's order of preference for AIA maps.
double observer_distance(const AiaHeader& h) {
    auto x = h.optional("HAEX_OBS"), y = h.optional("HAEY_OBS"), z = h.optional("HAEZ_OBS");
    if (x && y && z) return std::sqrt(*x * *x + *y * *y + *z * *z);
    if (auto d = h.optional("DSUN_OBS");
        d && ((h.fits().has("HGLN_OBS") && h.fits().has("HGLT_OBS")) || (h.fits().has("CRLN_OBS") && h.fits().has("CRLT_OBS"))))
        return *d;
    throw file_error(ErrorKind::missing_keyword, h.path(),
                     "no observer location: need HAEX_OBS/HAEY_OBS/HAEZ_OBS, or HGLN_OBS/HGLT_OBS/DSUN_OBS, or CRLN_OBS/CRLT_OBS/DSUN_OBS");
}

// sunpy GenericMap._rsun_meters: RSUN_REF, else from the angular radius and the distance, else 695 700 km.
double rsun_meters(const AiaHeader& h, double dsun) {
    if (auto r = h.optional("RSUN_REF")) return *r;
    for (const char* k : {"RSUN_OBS", "SOLAR_R", "RADIUS"})
        if (auto a = h.optional(k)) return std::sin(*a / 3600.0 * kDeg) * dsun;
    return 695700000.0;
}

}  // namespace

FullDiskCheck contains_full_disk(const AiaImage& img) {
    const AiaHeader h = img.aia();
    const TanWcs w = make_wcs(img);
    const double d = observer_distance(h);
    const double rsun_angle = std::asin(rsun_meters(h, d) / d);  // radians

    FullDiskCheck r;
    const std::size_t ny = img.data.rows(), nx = img.data.cols();
    double min_margin = INFINITY;
    auto edge = [&](double x, double y) {
        double tx, ty;
        w.pixel_to_world(x, y, tx, ty);
        const double dist = std::acos(std::cos(tx * kDeg) * std::cos(ty * kDeg));
        if (dist <= rsun_angle) ++r.edge_pixels_on_disk;
        min_margin = std::min(min_margin, dist - rsun_angle);
    };
    // sunpy map_edges: top row, bottom row, left column, right column (corners visited twice).
    for (std::size_t x = 0; x < nx; ++x) edge(static_cast<double>(x), static_cast<double>(ny - 1));
    for (std::size_t x = 0; x < nx; ++x) edge(static_cast<double>(x), 0.0);
    for (std::size_t y = 0; y < ny; ++y) edge(0.0, static_cast<double>(y));
    for (std::size_t y = 0; y < ny; ++y) edge(static_cast<double>(nx - 1), static_cast<double>(y));

    double xc, yc;
    w.world_to_pixel(0.0, 0.0, xc, yc);
    r.sun_centre_inside = xc >= -0.5 && xc <= static_cast<double>(nx) - 0.5 && yc >= -0.5 && yc <= static_cast<double>(ny) - 0.5;
    r.margin_arcsec = min_margin / kDeg * 3600.0;
    r.ambiguous = std::fabs(r.margin_arcsec) < 1e-6;
    r.full_disk = r.edge_pixels_on_disk == 0 && r.sun_centre_inside;
    return r;
}

}  // namespace aiaccel::reference
