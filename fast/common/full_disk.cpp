// contains_full_disk for the fast CPU backend (sunpy 7.0.5 maputils.contains_full_disk semantics:
// every edge-pixel centre off the disk, arccos(cos Tx · cos Ty) > arcsin(R☉/d), and the Sun centre
// within [−0.5, n − 0.5] of the map), computed analytically per edge. The WCS is the map's TAN
// projection as wcslib evaluates it (Calabretta & Greisen 2002; LONPOLE 180°); the observer distance
// and R☉ are taken as sunpy's AIAMap takes them (core/aia_header.hpp). docs/algorithms.md §4.
#include "fast/common/full_disk.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <numbers>

#include "core/error.hpp"

namespace aiaccel::cpu {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

double deg_per_unit(const std::string& unit, const std::string& path, const char* key) {
    if (unit == "arcsec") return 1.0 / 3600.0;
    if (unit == "arcmin") return 1.0 / 60.0;
    if (unit == "deg") return 1.0;
    throw file_error(ErrorKind::unsupported, path, fmt::format("{} = '{}' is not supported (expected arcsec, arcmin or deg)", key, unit));
}

struct Tan {
    double crpix[2], a0, d0;  // reference pixel (1-based), reference point (radians)
    double m[2][2], minv[2][2];  // degrees per pixel (CDELT·PC) and its inverse

    // Angular distance (radians) of 0-based pixel (x, y) from (Tx, Ty) = (0, 0).
    double distance_from_centre(double x, double y) const {
        const double dx = (x + 1) - crpix[0], dy = (y + 1) - crpix[1];
        const double ix = m[0][0] * dx + m[0][1] * dy, iy = m[1][0] * dx + m[1][1] * dy;
        const double r = std::hypot(ix, iy);
        const double phi = r == 0 ? 0.0 : std::atan2(ix, -iy);
        const double theta = std::atan2(180.0 / std::numbers::pi, r);
        const double dphi = phi - std::numbers::pi;
        const double sl = std::sin(theta) * std::sin(d0) + std::cos(theta) * std::cos(d0) * std::cos(dphi);
        double lat = std::asin(std::clamp(sl, -1.0, 1.0)) / kDeg;
        const double ya = -std::cos(theta) * std::sin(dphi);
        const double xa = std::sin(theta) * std::cos(d0) - std::cos(theta) * std::sin(d0) * std::cos(dphi);
        double lon = (a0 + std::atan2(ya, xa)) / kDeg;
        lon = std::fmod(lon + 540.0, 360.0) - 180.0;
        return std::acos(std::cos(lon * kDeg) * std::cos(lat * kDeg));
    }

    // 0-based pixel of (Tx, Ty) = (0, 0).
    void centre_pixel(double& x, double& y) const {
        const double da = -a0;
        const double phi = std::numbers::pi + std::atan2(-std::sin(da), -std::sin(d0) * std::cos(da));
        const double theta = std::asin(std::clamp(std::cos(d0) * std::cos(da), -1.0, 1.0));
        const double rr = (180.0 / std::numbers::pi) * std::cos(theta) / std::sin(theta);
        const double ix = rr * std::sin(phi), iy = -rr * std::cos(phi);
        x = crpix[0] + minv[0][0] * ix + minv[0][1] * iy - 1;
        y = crpix[1] + minv[1][0] * ix + minv[1][1] * iy - 1;
    }
};

Tan make_tan(const AiaImage& img) {
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
    const double u1 = deg_per_unit(h.cunit1(), path, "CUNIT1"), u2 = deg_per_unit(h.cunit2(), path, "CUNIT2");
    const Matrix2 pc = h.rotation_matrix();  // sunpy's map.wcs takes its PC matrix from rotation_matrix
    Tan t{};
    t.crpix[0] = h.crpix1();
    t.crpix[1] = h.crpix2();
    t.a0 = h.crval1() * u1 * kDeg;
    t.d0 = h.crval2() * u2 * kDeg;
    const double cd[2] = {h.cdelt1() * u1, h.cdelt2() * u2};
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) t.m[i][j] = cd[i] * pc[i][j];
    const double det = t.m[0][0] * t.m[1][1] - t.m[0][1] * t.m[1][0];
    if (det == 0 || !std::isfinite(det)) throw file_error(ErrorKind::bad_value, path, "the WCS matrix CDELT·PC is singular");
    t.minv[0][0] = t.m[1][1] / det;
    t.minv[0][1] = -t.m[0][1] / det;
    t.minv[1][0] = -t.m[1][0] / det;
    t.minv[1][1] = t.m[0][0] / det;
    return t;
}

struct EdgeScan {
    double min_distance;
    std::size_t on_disk;
};

// f(k), k = 0 … n−1, falls then rises (a great circle's distance from a point): its minimum by
// ternary search (then a short scan, as near the minimum round-off can make neighbours tie), and the
// run of indices with f ≤ r by bisection on each side.
EdgeScan scan_edge(std::size_t n, double r, const std::function<double(std::size_t)>& f) {
    std::size_t lo = 0, hi = n - 1;
    while (hi - lo > 8) {
        const std::size_t m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
        if (f(m1) < f(m2))
            hi = m2;
        else
            lo = m1;
    }
    lo = lo > 8 ? lo - 8 : 0;
    hi = std::min(n - 1, hi + 8);
    std::size_t arg = lo;
    double best = f(lo);
    for (std::size_t k = lo + 1; k <= hi; ++k)
        if (const double v = f(k); v < best) best = v, arg = k;
    EdgeScan s{best, 0};
    if (!(best <= r)) return s;
    std::size_t a = 0, b = arg;  // first index ≤ r in [0, arg]
    while (a < b) {
        const std::size_t mid = a + (b - a) / 2;
        if (f(mid) <= r)
            b = mid;
        else
            a = mid + 1;
    }
    std::size_t c = arg, e = n - 1;  // last index ≤ r in [arg, n−1]
    while (c < e) {
        const std::size_t mid = c + (e - c + 1) / 2;
        if (f(mid) <= r)
            c = mid;
        else
            e = mid - 1;
    }
    s.on_disk = c - a + 1;
    return s;
}

}  // namespace

FullDiskResult contains_full_disk_cpu(const AiaImage& img) {
    const AiaHeader h = img.aia();
    if (img.data.empty()) throw file_error(ErrorKind::bad_value, img.path, "empty image");
    const Tan t = make_tan(img);
    const double dsun = h.observer_distance_m();
    const double rsun = std::asin(h.rsun_meters(dsun) / dsun);
    const std::size_t ny = img.data.rows(), nx = img.data.cols();
    const double top = static_cast<double>(ny - 1), right = static_cast<double>(nx - 1);

    FullDiskResult res;
    double min_distance = INFINITY;
    auto add = [&](EdgeScan s) {
        min_distance = std::min(min_distance, s.min_distance);
        res.edge_pixels_on_disk += s.on_disk;
    };
    add(scan_edge(nx, rsun, [&](std::size_t k) { return t.distance_from_centre(static_cast<double>(k), top); }));
    add(scan_edge(nx, rsun, [&](std::size_t k) { return t.distance_from_centre(static_cast<double>(k), 0.0); }));
    add(scan_edge(ny, rsun, [&](std::size_t k) { return t.distance_from_centre(0.0, static_cast<double>(k)); }));
    add(scan_edge(ny, rsun, [&](std::size_t k) { return t.distance_from_centre(right, static_cast<double>(k)); }));

    double xc, yc;
    t.centre_pixel(xc, yc);
    res.sun_centre_inside = xc >= -0.5 && xc <= static_cast<double>(nx) - 0.5 && yc >= -0.5 && yc <= static_cast<double>(ny) - 0.5;
    res.margin_arcsec = (min_distance - rsun) / kDeg * 3600.0;
    res.full_disk = res.edge_pixels_on_disk == 0 && res.sun_centre_inside;
    return res;
}

}  // namespace aiaccel::cpu
