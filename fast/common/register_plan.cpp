// The host side of register shared by the fast backends (fast/common/register_plan.hpp): the full-disk
// refusal, scale, sunpy's frame and map, numpy's 2×2 algebra, aiapy's crop and the header.
// Written from docs/algorithms.md §3.2–3.3, §4, §7.8–7.13. Built without FMA contraction.
#include "fast/common/register_plan.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "fast/common/full_disk.hpp"
#include "fast/common/parallel.hpp"

namespace aiaccel::cpu {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- numpy's 2×2 algebra as scipy-openblas computes it (LU with partial pivoting and reciprocal
// pivots for inv; gemv/gemm kernels that fuse one multiply-add) ------------------------------------
Matrix2 inv2(Matrix2 a, const std::string& path) {
    Matrix2 b = {{{1.0, 0.0}, {0.0, 1.0}}};
    if (std::fabs(a[1][0]) > std::fabs(a[0][0])) std::swap(a[0], a[1]), std::swap(b[0], b[1]);
    const auto singular = [&] { return file_error(ErrorKind::bad_value, path, "the rotation matrix is singular (numpy.linalg.inv would raise)"); };
    if (a[0][0] == 0.0) throw singular();
    const double r00 = 1.0 / a[0][0], l10 = a[1][0] * r00, u11 = a[1][1] - l10 * a[0][1];
    if (u11 == 0.0) throw singular();
    const double r11 = 1.0 / u11;
    Matrix2 x{};
    for (int j = 0; j < 2; ++j) {
        const double y1 = b[1][j] - l10 * b[0][j];
        x[1][j] = y1 * r11;
        x[0][j] = std::fma(-a[0][1], x[1][j], b[0][j]) * r00;
    }
    return x;
}
std::array<double, 2> matvec2(const Matrix2& a, std::array<double, 2> v) {
    return {std::fma(a[0][0], v[0], a[0][1] * v[1]), std::fma(a[1][0], v[0], a[1][1] * v[1])};
}
Matrix2 matmul2(const Matrix2& a, const Matrix2& b) {
    Matrix2 c{};
    for (int r = 0; r < 2; ++r)
        for (int k = 0; k < 2; ++k) c[r][k] = std::fma(a[r][1], b[1][k], a[r][0] * b[0][k]);
    return c;
}

// ---- header arithmetic -------------------------------------------------------------------------
// numpy float floor division, then astropy's Angle wrap (longitude wrapped to [wrap − full, wrap)).
double floor_divide(double a, double b) {
    const double mod = std::fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
    if (div == 0.0) return std::copysign(0.0, a / b);
    double fl = std::floor(div);
    if (div - fl > 0.5) fl += 1.0;
    return fl;
}
double wrap_angle(double v, double wrap, double full) {
    const double lo = wrap - full;
    if (!(v < lo || v >= wrap)) return v;
    v -= floor_divide(v - lo, full) * full;
    if (v >= wrap) v -= full;
    if (v < lo) v += full;
    return v;
}
double full_circle(const std::string& unit, const std::string& path) {
    if (unit == "arcsec") return 1296000.0;
    if (unit == "deg") return 360.0;
    if (unit == "arcmin") return 21600.0;
    throw file_error(ErrorKind::unsupported, path, fmt::format("CUNIT1 = '{}' is not supported (expected arcsec, arcmin or deg)", unit));
}

// The map's scale, reference pixel (sunpy's default: the array centre) and rotation matrix (sunpy's
// rule, core/aia_header.hpp).
struct MapWcs {
    double cdelt1, cdelt2, crpix1, crpix2;
    Matrix2 rotation;
};
MapWcs map_wcs(const AiaImage& img) {
    const AiaHeader h = img.aia();
    const FitsHeader& f = img.header;
    MapWcs g{};
    g.cdelt1 = h.cdelt1();
    g.cdelt2 = h.cdelt2();
    g.crpix1 = f.has("CRPIX1") ? h.crpix1() : (static_cast<double>(img.data.cols()) + 1) / 2.;
    g.crpix2 = f.has("CRPIX2") ? h.crpix2() : (static_cast<double>(img.data.rows()) + 1) / 2.;
    g.rotation = h.rotation_matrix();
    return g;
}

Frame rotated_frame(const AiaImage& in, const MapWcs& g, double scale, bool unpad) {
    Frame f;
    const std::size_t ny = in.data.rows(), nx = in.data.cols();
    const Matrix2& r = g.rotation;
    f.rinv = inv2(r, in.path);
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (double cx : {-0.5, static_cast<double>(nx) - 0.5})
        for (double cy : {-0.5, static_cast<double>(ny) - 0.5}) {
            const auto p = matvec2(r, {cx, cy});
            for (int k = 0; k < 2; ++k) lo[k] = std::min(lo[k], p[k] * scale), hi[k] = std::max(hi[k], p[k] * scale);
        }
    const long dx = static_cast<long>(std::ceil(((hi[0] - lo[0]) - static_cast<double>(nx)) / 2));
    const long dy = static_cast<long>(std::ceil(((hi[1] - lo[1]) - static_cast<double>(ny)) / 2));
    f.pad_x = static_cast<std::size_t>(std::max(dx, 0L));
    f.pad_y = static_cast<std::size_t>(std::max(dy, 0L));
    f.unpad_x = unpad ? static_cast<std::size_t>(std::max(-dx, 0L)) : 0;
    f.unpad_y = unpad ? static_cast<std::size_t>(std::max(-dy, 0L)) : 0;
    f.py = ny + 2 * f.pad_y;
    f.px = nx + 2 * f.pad_x;
    f.array_center = {(static_cast<double>(f.px) - 1) / 2.0, (static_cast<double>(f.py) - 1) / 2.0};
    const std::array<double, 2> image_center = {(g.crpix1 - 1) + static_cast<double>(f.pad_x), (g.crpix2 - 1) + static_cast<double>(f.pad_y)};
    Matrix2 m{};
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) m[i][j] = f.rinv[i][j] / scale;
    const auto disp = matvec2(m, f.array_center);
    f.map = {m[0][0], m[0][1], m[1][0], m[1][1], image_center[0] - disp[0], image_center[1] - disp[1], true};
    return f;
}

}  // namespace

bool is_integer(PixelType t) { return t == PixelType::u8 || t == PixelType::i16 || t == PixelType::i32; }

double store(double t, PixelType dtype) {
    auto to_int = [&](double lo, double hi) {
        if (std::isnan(t)) return 0.0;
        const double v = t > 0 ? t + 0.5 : t - 0.5;
        return std::trunc(std::clamp(v, lo, hi));
    };
    switch (dtype) {
        case PixelType::f64: return t;
        case PixelType::f32: return static_cast<double>(static_cast<float>(t));
        case PixelType::i16: return to_int(-32768.0, 32767.0);
        case PixelType::i32: return to_int(-2147483648.0, 2147483647.0);
        case PixelType::u8: return std::isnan(t) ? 0.0 : std::trunc(std::clamp(t > 0 ? t + 0.5 : 0.0, 0.0, 255.0));
    }
    return t;
}

void merge(PadStats& a, const PadStats& b) {
    if (!std::isnan(b.min) && (std::isnan(a.min) || b.min < a.min)) a.min = b.min;
    if (!std::isnan(b.max) && (std::isnan(a.max) || b.max > a.max)) a.max = b.max;
    a.any_nan = a.any_nan || b.any_nan;
    a.all_finite = a.all_finite && b.all_finite;
}
void account(PadStats& s, double v) {
    if (std::isnan(v)) {
        s.any_nan = true;
        s.all_finite = false;
        return;
    }
    if (!std::isfinite(v)) s.all_finite = false;
    if (std::isnan(s.min) || v < s.min) s.min = v;
    if (std::isnan(s.max) || v > s.max) s.max = v;
}

PadStats scan(const Image<double>& a, int threads) {
    std::vector<PadStats> part(static_cast<std::size_t>(threads));
    parallel_for(a.rows(), threads, [&](std::size_t b, std::size_t e, std::size_t blk) {
        PadStats s;
        for (std::size_t y = b; y < e; ++y)
            for (const double* p = a.row(y); p != a.row(y) + a.cols(); ++p) account(s, *p);
        part[blk] = s;
    });
    PadStats all;
    for (const PadStats& s : part) merge(all, s);
    return all;
}

double padded_nanmedian(const Image<double>& data, std::size_t n_fill, double fill, PixelType dtype) {
    std::vector<double> v;
    v.reserve(data.size() + n_fill);
    for (double x : data.pixels())
        if (!std::isnan(x)) v.push_back(x);
    if (!std::isnan(fill)) v.insert(v.end(), n_fill, fill);
    if (v.empty()) return kNaN;
    const std::size_t h = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
    const double hi = v[h];
    if (v.size() % 2) return hi;
    const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h));
    if (dtype == PixelType::f32) return static_cast<float>(static_cast<double>(static_cast<float>(lo) + static_cast<float>(hi)) / 2.0);
    return (lo + hi) / 2.0;
}

RegisterPlan plan_register(const AiaImage& in, const RegisterRequest& req, int threads) {
    const std::string& path = in.path;
    (void)in.aia().channel();  // AIA only (aiapy: TypeError unless AIAMap/HMIMap)
    if (in.data.empty()) throw file_error(ErrorKind::bad_value, path, "empty image");
    const FullDiskResult fd = contains_full_disk_cpu(in);
    if (!fd.full_disk) {
        const std::string why = !fd.sun_centre_inside
            ? "the Sun centre is outside the image"
            : fmt::format("{} edge pixels lie on the disk, up to {:.1f}″ inside the limb", fd.edge_pixels_on_disk, -fd.margin_arcsec);
        throw file_error(ErrorKind::bad_value, path, "does not contain the full solar disk (register needs a full-disk image): " + why);
    }

    RegisterPlan p;
    // Target scale 0.6″/px, or the nearest multiple for a binned image (CDELT1 only; numpy round).
    const MapWcs g = map_wcs(in);
    p.rotation = g.rotation;
    p.cdelt1 = g.cdelt1;
    p.cdelt2 = g.cdelt2;
    const double ratio = std::nearbyint(g.cdelt1 / 0.6);
    const bool full_res = in.data.rows() == 4096 && in.data.cols() == 4096;
    p.scale = g.cdelt1 / ((ratio != 1.0 && !full_res) ? ratio * 0.6 : 0.6);

    p.data = scan(in.data, resolve_threads(threads));
    p.missing = req.missing.value_or(p.data.min);
    p.frame = rotated_frame(in, g, p.scale, !req.full_frame);  // --full-frame: sunpy's frame without its unpadding
    const Frame& f = p.frame;
    const bool padded = f.pad_x > 0 || f.pad_y > 0;
    if (padded && is_integer(in.dtype) && !(std::fmod(p.missing, 1.0) == 0.0))
        throw file_error(
            ErrorKind::bad_value, path,
            fmt::format("the data are integers ({}) but the fill value for missing pixels ({}) is not an integer; give an integer missing value",
                        to_string(in.dtype), p.missing));
    p.fill = is_integer(in.dtype) ? p.missing : store(p.missing, in.dtype);
    p.pad = p.data;
    if (padded) account(p.pad, p.fill);

    // Sunpy unpads, aiapy crops to the input's row count around floor(CRPIX1) on both axes.
    const std::size_t uy = f.py - 2 * f.unpad_y, ux = f.px - 2 * f.unpad_x;
    p.crpix1 = (f.array_center[0] + 1) - static_cast<double>(f.unpad_x);
    p.crpix2 = (f.array_center[1] + 1) - static_cast<double>(f.unpad_y);
    p.crop = {f.unpad_y, f.unpad_x, uy, ux};
    if (!req.full_frame) {
        const double centre = std::floor(p.crpix1), n = static_cast<double>(in.data.rows());
        const double first = std::floor((centre + (-n) / 2) + 0.5), last = std::ceil(((centre + n / 2) - 1) - 0.5) + 1;
        auto clip_to = [](double v, std::size_t size) { return static_cast<std::size_t>(std::clamp(v, 0.0, static_cast<double>(size))); };
        const std::size_t bottom = clip_to(first, uy), top = clip_to(last, uy), left = clip_to(first, ux), right = clip_to(last, ux);
        p.crop = {f.unpad_y + bottom, f.unpad_x + left, top > bottom ? top - bottom : 0, right > left ? right - left : 0};
    }
    p.early_clip = std::isnan(p.missing) || (!std::isnan(p.pad.min) && p.pad.min <= p.missing && p.missing <= p.pad.max);
    return p;
}

void write_registered_header(AiaImage& out, const AiaImage& in, const RegisterPlan& p, bool full_frame) {
    const std::string& path = in.path;
    const Frame& f = p.frame;
    // Header as sunpy's rotate writes it, then aiapy's crop offset and keywords.
    const AiaHeader h = in.aia();
    const double full = full_circle(h.cunit1(), path);
    out.header.set_double("CRVAL1", wrap_angle(wrap_angle(h.crval1(), full, full), full / 2, full));
    out.header.set_double("CRVAL2", h.crval2());
    out.header.set_double("CRPIX1", full_frame ? p.crpix1 : ((p.crpix1 - 1) + 1) - static_cast<double>(p.crop.c0 - f.unpad_x));
    out.header.set_double("CRPIX2", full_frame ? p.crpix2 : ((p.crpix2 - 1) + 1) - static_cast<double>(p.crop.r0 - f.unpad_y));
    const Matrix2 pc = matmul2(p.rotation, f.rinv);
    out.header.set_double("PC1_1", pc[0][0]);
    out.header.set_double("PC1_2", pc[0][1]);
    out.header.set_double("PC2_1", pc[1][0]);
    out.header.set_double("PC2_2", pc[1][1]);
    if (p.scale != 1.0) {
        out.header.set_double("CDELT1", p.cdelt1 / p.scale);
        out.header.set_double("CDELT2", p.cdelt2 / p.scale);
    }
    for (const char* k : {"CROTA1", "CROTA2", "CD1_1", "CD1_2", "CD2_1", "CD2_2"}) out.header.erase(k);
    const auto rsun_obs = out.header.get_double("RSUN_OBS");
    if (!rsun_obs) throw file_error(ErrorKind::missing_keyword, path, "missing keyword RSUN_OBS (register sets R_SUN = RSUN_OBS / CDELT1)");
    out.header.set_double("R_SUN", *rsun_obs / *out.header.get_double("CDELT1"));
    out.header.set_double("LVL_NUM", 1.5);
}

}  // namespace aiaccel::cpu
