// Fast CPU register: the host side of aiapy.calibrate.register → sunpy GenericMap.rotate →
// scipy.ndimage.affine_transform (ALGORITHMS.md §3.2–3.3): map rotation matrix, numpy's 2×2 inverse
// and dot products (§7.9), padding and unpadding, rotation centre, NaN substitute and mask (§7.13),
// clip, aiapy's crop and the header keywords. Written from ALGORITHMS.md (the reference,
// reference/register_reference.cpp, computes the same metadata independently). The pixel work is in
// spline_prefilter_cpu.cpp and affine_transform_cpu.cpp. Built without FMA contraction.
#include "fast/cpu/register_cpu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <limits>
#include <numbers>
#include <vector>

#include "core/error.hpp"
#include "core/huge_pages.hpp"
#include "fast/cpu/affine_transform_cpu.hpp"
#include "fast/cpu/full_disk_cpu.hpp"
#include "fast/cpu/parallel.hpp"
#include "fast/cpu/spline_prefilter_cpu.hpp"

namespace aiaccel::cpu {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_integer(PixelType t) { return t == PixelType::u8 || t == PixelType::i16 || t == PixelType::i32; }

// How scipy stores a double into the output dtype: floats round to nearest; integers round half away
// from zero, saturate, truncate (NaN → 0).
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

// sunpy's rotation_matrix (PCi_j, else CDi_j / CDELTi, else CROTA2) and reference pixel.
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
    auto val = [&](const char* k, double dflt) { return f.has(k) ? h.require(k) : dflt; };
    if (f.has("PC1_1") || f.has("PC1_2") || f.has("PC2_1") || f.has("PC2_2")) {
        g.rotation = {{{val("PC1_1", 1), val("PC1_2", 0)}, {val("PC2_1", 0), val("PC2_2", 1)}}};
    } else if (f.has("CD1_1") || f.has("CD1_2") || f.has("CD2_1") || f.has("CD2_2")) {
        g.rotation = {{{val("CD1_1", 0) / g.cdelt1, val("CD1_2", 0) / g.cdelt1}, {val("CD2_1", 0) / g.cdelt2, val("CD2_2", 0) / g.cdelt2}}};
    } else {
        const double lam = g.cdelt2 / g.cdelt1, p = val("CROTA2", 0.0) * (std::numbers::pi / 180.0);
        g.rotation = {{{std::cos(p), (-1 * lam) * std::sin(p)}, {(1 / lam) * std::sin(p), std::cos(p)}}};
    }
    return g;
}

// The rotated frame of GenericMap.rotate(recenter=True): padding, output→input map, unpadding.
struct Frame {
    std::size_t pad_x = 0, pad_y = 0, unpad_x = 0, unpad_y = 0, py = 0, px = 0;
    std::array<double, 2> array_center{};
    Matrix2 rinv{};
    AffineMap map{};
};
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

// ---- pixels --------------------------------------------------------------------------------------
struct PadStats {
    double min = kNaN, max = kNaN;
    bool any_nan = false, all_finite = true;
};
void merge(PadStats& a, const PadStats& b) {
    if (!std::isnan(b.min) && (std::isnan(a.min) || b.min < a.min)) a.min = b.min;
    if (!std::isnan(b.max) && (std::isnan(a.max) || b.max > a.max)) a.max = b.max;
    a.any_nan = a.any_nan || b.any_nan;
    a.all_finite = a.all_finite && b.all_finite;
}
void account(PadStats& s, double v) {
    if (std::isnan(v)) { s.any_nan = true; s.all_finite = false; return; }
    if (!std::isfinite(v)) s.all_finite = false;
    if (std::isnan(s.min) || v < s.min) s.min = v;
    if (std::isnan(s.max) || v > s.max) s.max = v;
}

// np.nanmedian of the padded frame in its dtype (even count: the two middle values summed in the
// dtype, halved).
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

// convolve2d(isnan, ones(k, k), 'same') > 0, i.e. the NaN mask dilated by a k×k box, as bytes.
std::vector<std::uint8_t> dilated_nan_mask(const Image<double>& padded_nan_source, std::size_t pad_y, std::size_t pad_x, std::size_t py,
                                           std::size_t px, bool fill_is_nan, int k) {
    std::vector<std::uint8_t> m(py * px, 0), h(py * px, 0);
    for (std::size_t y = 0; y < py; ++y)
        for (std::size_t x = 0; x < px; ++x) {
            const bool inside = y >= pad_y && y < pad_y + padded_nan_source.rows() && x >= pad_x && x < pad_x + padded_nan_source.cols();
            m[y * px + x] = inside ? std::isnan(padded_nan_source(y - pad_y, x - pad_x)) : fill_is_nan;
        }
    const auto r = static_cast<std::ptrdiff_t>(k / 2);
    const auto sx = static_cast<std::ptrdiff_t>(px), sy = static_cast<std::ptrdiff_t>(py);
    for (std::ptrdiff_t y = 0; y < sy; ++y)
        for (std::ptrdiff_t x = 0; x < sx; ++x) {
            std::uint8_t any = 0;
            for (std::ptrdiff_t j = std::max<std::ptrdiff_t>(0, x - r); j <= std::min(sx - 1, x + r); ++j) any |= m[y * sx + j];
            h[y * sx + x] = any;
        }
    for (std::ptrdiff_t y = 0; y < sy; ++y)
        for (std::ptrdiff_t x = 0; x < sx; ++x) {
            std::uint8_t any = 0;
            for (std::ptrdiff_t i = std::max<std::ptrdiff_t>(0, y - r); i <= std::min(sy - 1, y + r); ++i) any |= h[i * sx + x];
            m[y * sx + x] = any;
        }
    return m;
}

// The order-1, cval-0 rotation of the dilated mask is > 0 (output NaN) iff a tap with positive
// weights in both axes is in the mask.
bool masked(const std::vector<std::uint8_t>& mask, std::size_t py, std::size_t px, double X, double Y) {
    if (!(X >= 0 && X <= static_cast<double>(px - 1)) || !(Y >= 0 && Y <= static_cast<double>(py - 1))) return false;
    const double fx = std::floor(X), fy = std::floor(Y);
    const double wx0 = 1.0 - (X - fx), wy0 = 1.0 - (Y - fy);
    const double w[2][2] = {{wx0, 1.0 - wx0}, {wy0, 1.0 - wy0}};
    const auto ix = static_cast<std::size_t>(fx), iy = static_cast<std::size_t>(fy);
    for (int b = 0; b < 2; ++b)
        for (int a = 0; a < 2; ++a)  // weight 1 − w0 > 0 implies the tap index is inside
            if (w[0][a] > 0 && w[1][b] > 0 && mask[(iy + b) * px + ix + a]) return true;
    return false;
}

}  // namespace

namespace {

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

// A window of the rotated (padded) frame: rows r0 … r0+rows−1, columns c0 … c0+cols−1.
struct Window {
    std::size_t r0, c0, rows, cols;
};

struct Rotated {
    Image<double> pixels;  // the window, stored in the dtype, NaN-masked, clipped when a clamp was given
    double min = kNaN, max = kNaN;  // nanmin / nanmax, computed only when no clamp is given
};

// sunpy's add_rotation_function wrapper around scipy's affine_transform, on one window of the frame.
template <class T>
Rotated rotate_window(const AiaImage& in, const Frame& f, double fill, const PadStats& pad, PixelType dtype, double missing, Window win,
                      const double* clamp, int threads) {
    const std::size_t ny = in.data.rows(), nx = in.data.cols(), py = f.py, px = f.px;
    // np.pad with the fill, then (NaN present) NaN → nanmedian and ±inf → the dtype's extremes.
    double substitute = kNaN;
    if (pad.any_nan) substitute = padded_nanmedian(in.data, py * px - ny * nx, fill, dtype);
    const double big = dtype == PixelType::f32 ? static_cast<double>(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
    auto prepared = [&](double v) {
        if (!pad.any_nan) return v;
        if (std::isnan(v)) return substitute;
        if (std::isinf(v) && !is_integer(dtype)) return v > 0 ? big : -big;
        return v;
    };
    Image<T> coef(py, px);
    advise_huge_pages(coef.data(), coef.size() * sizeof(T));
    const T tfill = static_cast<T>(prepared(fill));
    parallel_for(py, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t y = b; y < e; ++y) {
            T* row = coef.row(y);
            if (y < f.pad_y || y >= f.pad_y + ny) { std::fill_n(row, px, tfill); continue; }
            std::fill_n(row, f.pad_x, tfill);
            std::fill_n(row + f.pad_x + nx, f.pad_x, tfill);
            const double* src = in.data.row(y - f.pad_y);
            for (std::size_t x = 0; x < nx; ++x) row[f.pad_x + x] = static_cast<T>(prepared(src[x]));
        }
    });
    // The causal-initialisation shortcut needs finite samples that stay finite once multiplied by the gain.
    const bool finite = pad.all_finite && !pad.any_nan && std::fabs(pad.min) < 1e300 && std::fabs(pad.max) < 1e300;
    spline_prefilter_order3_cpu(coef.data(), py, px, finite, threads);

    std::vector<std::uint8_t> mask;
    static constexpr int kNanKernel = 5;  // sunpy's dilation size for order 3
    if (pad.any_nan) mask = dilated_nan_mask(in.data, f.pad_y, f.pad_x, py, px, std::isnan(fill), kNanKernel);

    const SplineCoefficients<T> c{coef.data(), py, px};
    const double cval = store(missing, dtype);
    Rotated out;
    out.pixels = Image<double>(win.rows, win.cols);
    advise_huge_pages(out.pixels.data(), out.pixels.size() * sizeof(double));
    std::vector<std::pair<double, double>> part(static_cast<std::size_t>(threads), {kNaN, kNaN});
    parallel_for(win.rows, threads, [&](std::size_t b, std::size_t e, std::size_t blk) {
        PadStats s;
        for (std::size_t r = b; r < e; ++r) {
            double* row = out.pixels.row(r);
            const std::size_t oy = win.r0 + r;
            affine_order3_row_cpu(c, f.map, oy, win.c0, win.cols, cval, row);
            // Stored as scipy stores into the dtype (float64: as is).
            if (dtype == PixelType::f32) {
                for (std::size_t k = 0; k < win.cols; ++k) row[k] = static_cast<double>(static_cast<float>(row[k]));
            } else if (dtype != PixelType::f64) {
                for (std::size_t k = 0; k < win.cols; ++k) row[k] = store(row[k], dtype);
            }
            if (!mask.empty()) {
                const double dy = static_cast<double>(oy);
                for (std::size_t k = 0; k < win.cols; ++k) {
                    const double ox = static_cast<double>(win.c0 + k);
                    if (masked(mask, py, px, f.map.x(ox, dy), f.map.y(ox, dy))) row[k] = kNaN;
                }
            }
            if (!clamp) {
                for (std::size_t k = 0; k < win.cols; ++k) account(s, row[k]);
            } else if (is_integer(dtype)) {
                for (std::size_t k = 0; k < win.cols; ++k)
                    if (!std::isnan(row[k])) row[k] = store(std::min(std::max(row[k], clamp[0]), clamp[1]), dtype);
            } else {
                // NaN passes through max/min in this operand order; the bounds are values of the dtype
                // (data or the stored fill), so storing again would change nothing.
                const double lo = clamp[0], hi = clamp[1];
                for (std::size_t k = 0; k < win.cols; ++k) row[k] = std::min(std::max(row[k], lo), hi);
            }
        }
        part[blk] = {s.min, s.max};
    });
    PadStats all;
    for (auto [lo, hi] : part) merge(all, PadStats{lo, hi, false, true});
    out.min = all.min;
    out.max = all.max;
    return out;
}

}  // namespace

AiaImage register_image_cpu(const AiaImage& in, const RegisterRequest& req, Precision precision, int threads) {
    const std::string& path = in.path;
    if (req.order != 3)
        throw Error(ErrorKind::not_implemented,
                    fmt::format("cpu: register implements spline order 3 (aiapy's default), not {}; use --backend reference", req.order));
    threads = resolve_threads(threads);
    (void)in.aia().channel();  // AIA only (aiapy: TypeError unless AIAMap/HMIMap)
    if (in.data.empty()) throw file_error(ErrorKind::bad_value, path, "empty image");
    const FullDiskResult fd = contains_full_disk_cpu(in);
    if (!fd.full_disk) {
        const std::string why = !fd.sun_centre_inside
            ? "the Sun centre is outside the image"
            : fmt::format("{} edge pixels lie on the disk, up to {:.1f}″ inside the limb", fd.edge_pixels_on_disk, -fd.margin_arcsec);
        throw file_error(ErrorKind::bad_value, path, "does not contain the full solar disk (register needs a full-disk image): " + why);
    }

    // Target scale 0.6″/px, or the nearest multiple for a binned image (CDELT1 only; numpy round).
    const MapWcs g = map_wcs(in);
    const double ratio = std::nearbyint(g.cdelt1 / 0.6);
    const bool full_res = in.data.rows() == 4096 && in.data.cols() == 4096;
    const double scale = g.cdelt1 / ((ratio != 1.0 && !full_res) ? ratio * 0.6 : 0.6);

    const PadStats data = scan(in.data, threads);
    const double missing = req.missing.value_or(data.min);
    const Frame f = rotated_frame(in, g, scale, !req.full_frame);  // --full-frame: sunpy's frame without its unpadding
    const bool padded = f.pad_x > 0 || f.pad_y > 0;
    if (padded && is_integer(in.dtype) && !(std::fmod(missing, 1.0) == 0.0))
        throw file_error(ErrorKind::bad_value, path, fmt::format(
            "the data are integers ({}) but the fill value for missing pixels ({}) is not an integer; give an integer missing value",
            to_string(in.dtype), missing));
    const double fill = is_integer(in.dtype) ? missing : store(missing, in.dtype);
    PadStats pad = data;
    if (padded) account(pad, fill);

    // Sunpy unpads, aiapy crops to the input's row count around floor(CRPIX1) on both axes.
    const std::size_t uy = f.py - 2 * f.unpad_y, ux = f.px - 2 * f.unpad_x;
    const double crpix1 = (f.array_center[0] + 1) - static_cast<double>(f.unpad_x);
    const double crpix2 = (f.array_center[1] + 1) - static_cast<double>(f.unpad_y);
    Window crop{f.unpad_y, f.unpad_x, uy, ux};
    if (!req.full_frame) {
        const double centre = std::floor(crpix1), n = static_cast<double>(in.data.rows());
        const double first = std::floor((centre + (-n) / 2) + 0.5), last = std::ceil(((centre + n / 2) - 1) - 0.5) + 1;
        auto clip_to = [](double v, std::size_t size) { return static_cast<std::size_t>(std::clamp(v, 0.0, static_cast<double>(size))); };
        const std::size_t bottom = clip_to(first, uy), top = clip_to(last, uy), left = clip_to(first, ux), right = clip_to(last, ux);
        crop = {f.unpad_y + bottom, f.unpad_x + left, top > bottom ? top - bottom : 0, right > left ? right - left : 0};
    }

    // Clip bounds: with missing NaN or inside the data's range they are the padded data's extremes and
    // the clip is applied as pixels are made; otherwise they depend on the whole frame's output range.
    const bool early = std::isnan(missing) || (!std::isnan(pad.min) && pad.min <= missing && missing <= pad.max);
    const double early_clamp[2] = {pad.min, pad.max};
    const Window win = early ? crop : Window{0, 0, f.py, f.px};
    auto run = [&](auto tag) {
        using T = decltype(tag);
        return rotate_window<T>(in, f, fill, pad, in.dtype, missing, win, early ? early_clamp : nullptr, threads);
    };
    Rotated rot = precision == Precision::f64 ? run(double{}) : run(float{});

    AiaImage out;
    out.path = in.path;
    out.dtype = in.dtype;
    out.header = in.header;
    if (early) {
        out.data = std::move(rot.pixels);
    } else {
        double lower = kNaN, upper = kNaN;
        const bool clip = !std::isnan(rot.min);
        if (clip) {
            const double a = std::max(missing, rot.min), b = std::min(missing, rot.max);
            lower = std::isnan(pad.min) ? a : std::min(a, pad.min);
            upper = std::isnan(pad.max) ? b : std::max(b, pad.max);
        }
        out.data = Image<double>(crop.rows, crop.cols);
        parallel_for(crop.rows, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t r = b; r < e; ++r) {
                const double* src = rot.pixels.row(crop.r0 + r) + crop.c0;
                double* dst = out.data.row(r);
                for (std::size_t k = 0; k < crop.cols; ++k)
                    dst[k] = (clip && !std::isnan(src[k])) ? store(std::min(std::max(src[k], lower), upper), in.dtype) : src[k];
            }
        });
    }

    // Header as sunpy's rotate writes it, then aiapy's crop offset and keywords.
    const AiaHeader h = in.aia();
    const double full = full_circle(h.cunit1(), path);
    out.header.set_double("CRVAL1", wrap_angle(wrap_angle(h.crval1(), full, full), full / 2, full));
    out.header.set_double("CRVAL2", h.crval2());
    out.header.set_double("CRPIX1", req.full_frame ? crpix1 : ((crpix1 - 1) + 1) - static_cast<double>(crop.c0 - f.unpad_x));
    out.header.set_double("CRPIX2", req.full_frame ? crpix2 : ((crpix2 - 1) + 1) - static_cast<double>(crop.r0 - f.unpad_y));
    const Matrix2 pc = matmul2(g.rotation, f.rinv);
    out.header.set_double("PC1_1", pc[0][0]);
    out.header.set_double("PC1_2", pc[0][1]);
    out.header.set_double("PC2_1", pc[1][0]);
    out.header.set_double("PC2_2", pc[1][1]);
    if (scale != 1.0) {
        out.header.set_double("CDELT1", g.cdelt1 / scale);
        out.header.set_double("CDELT2", g.cdelt2 / scale);
    }
    for (const char* k : {"CROTA1", "CROTA2", "CD1_1", "CD1_2", "CD2_1", "CD2_2"}) out.header.erase(k);
    const auto rsun_obs = out.header.get_double("RSUN_OBS");
    if (!rsun_obs) throw file_error(ErrorKind::missing_keyword, path, "missing keyword RSUN_OBS (register sets R_SUN = RSUN_OBS / CDELT1)");
    out.header.set_double("R_SUN", *rsun_obs / *out.header.get_double("CDELT1"));
    out.header.set_double("LVL_NUM", 1.5);
    return out;
}

}  // namespace aiaccel::cpu
