// Reference registration (aiapy.calibrate.register, aiapy v0.10.2 = v0.12.1, prep.py) on top of a
// port of sunpy GenericMap.rotate (sunpy 7.0.5, map/mapbase.py) and of sunpy.image.transform
// affine_transform / _rotation_scipy with its NaN and clipping wrapper (add_rotation_function).
// Written from reading those sources (docs/algorithms.md §3.2, §3.3, §7.9–7.13); nothing is copied.
// The full-disk check lives in full_disk_reference.cpp.
#include "reference/register_reference.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numbers>
#include <vector>

#include "core/error.hpp"

namespace aiaccel::reference {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// ---- numpy/OpenBLAS 2×2 algebra ------------------------------------------------------------------
// numpy.linalg.inv calls LAPACK gesv(A, I); scipy-openblas implements it as getf2 (left-looking LU,
// pivot row scaled by the reciprocal of the pivot) and getrs (unit-lower then upper trsm, the upper
// solve multiplying by reciprocal diagonals and fusing the update into one multiply-add). np.dot of a
// 2×2 with a vector goes to gemv, whose kernel computes fma(a0, x0, a1·x1); 2×2·2×2 goes to gemm,
// fma(a1, b1, a0·b0). Checked bitwise against numpy 2.4.6 on this CPU class for 4000 random
// matrices each (rotations, skews, pivoting cases). Other BLAS builds may differ by an ulp (§7.9).

Matrix2 numpy_inv2(const Matrix2& in) {
    // Row pivoting: the row with the larger |first column| goes first (iamax picks the first on ties).
    Matrix2 a = in;
    Matrix2 b = {{{1.0, 0.0}, {0.0, 1.0}}};
    if (std::fabs(a[1][0]) > std::fabs(a[0][0])) {
        std::swap(a[0], a[1]);
        std::swap(b[0], b[1]);
    }
    if (a[0][0] == 0.0) throw Error(ErrorKind::bad_value, "rotation matrix is singular (numpy.linalg.inv would raise LinAlgError)");
    const double r00 = 1.0 / a[0][0];
    const double l10 = a[1][0] * r00;
    const double u11 = a[1][1] - l10 * a[0][1];
    if (u11 == 0.0) throw Error(ErrorKind::bad_value, "rotation matrix is singular (numpy.linalg.inv would raise LinAlgError)");
    const double r11 = 1.0 / u11;
    Matrix2 x{};
    for (int j = 0; j < 2; ++j) {
        const double y0 = b[0][j];
        const double y1 = b[1][j] - l10 * y0;  // exact here: y0 is 0 or 1
        const double x1 = y1 * r11;
        const double x0 = std::fma(-a[0][1], x1, y0) * r00;
        x[0][j] = x0;
        x[1][j] = x1;
    }
    return x;
}

std::array<double, 2> numpy_matvec2(const Matrix2& a, std::array<double, 2> v) {
    return {std::fma(a[0][0], v[0], a[0][1] * v[1]), std::fma(a[1][0], v[0], a[1][1] * v[1])};
}

Matrix2 numpy_matmul2(const Matrix2& a, const Matrix2& b) {
    Matrix2 c{};
    for (int r = 0; r < 2; ++r)
        for (int k = 0; k < 2; ++k) c[r][k] = std::fma(a[r][1], b[1][k], a[r][0] * b[0][k]);
    return c;
}

namespace {

// ---- small numpy helpers --------------------------------------------------------------------------

Image<double> transpose(const Image<double>& a) {
    Image<double> t(a.cols(), a.rows());
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c) t(c, r) = a(r, c);
    return t;
}

bool is_integer_dtype(PixelType t) { return t == PixelType::u8 || t == PixelType::i16 || t == PixelType::i32; }

double nanmin(const Image<double>& a) {
    double m = kNaN;
    for (double v : a.pixels())
        if (!std::isnan(v) && (std::isnan(m) || v < m)) m = v;
    return m;
}
double nanmax(const Image<double>& a) {
    double m = kNaN;
    for (double v : a.pixels())
        if (!std::isnan(v) && (std::isnan(m) || v > m)) m = v;
    return m;
}

// np.nanmedian of the whole array in its dtype: NaNs dropped, then np.median, whose even-count case
// is np.mean of the two middle values: their sum in the dtype (float32 stays float32), halved.
double nanmedian(const Image<double>& a, PixelType dtype) {
    std::vector<double> v;
    v.reserve(a.size());
    for (double x : a.pixels())
        if (!std::isnan(x)) v.push_back(x);
    if (v.empty()) return kNaN;
    const std::size_t h = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
    const double hi = v[h];
    if (v.size() % 2) return hi;
    const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h));
    if (dtype == PixelType::f32) {
        const float s = static_cast<float>(lo) + static_cast<float>(hi);
        return static_cast<double>(static_cast<float>(static_cast<double>(s) / 2.0));
    }
    return (lo + hi) / 2.0;  // float64, and integers (numpy averages them in float64)
}

// numpy's float floor division (npy_divmod / npy_floor_divide).
double npy_floor_divide(double a, double b) {
    double mod = std::fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0) {
        if ((b < 0) != (mod < 0)) div -= 1.0;
    }
    if (div != 0.0) {
        double fl = std::floor(div);
        if (div - fl > 0.5) fl += 1.0;
        return fl;
    }
    return std::copysign(0.0, a / b);
}

// astropy Angle._wrap_at (astropy 7.2), on a value in a unit where a full circle is `full`.
double wrap_at(double v, double wrap, double full) {
    const double floor_ = wrap - full;
    if (!(v < floor_ || v >= wrap)) return v;
    const double wraps = npy_floor_divide(v - floor_, full);
    v -= wraps * full;
    if (v >= wrap) v -= full;
    if (v < floor_) v += full;
    return v;
}

// Full circle in the map's spatial unit (sunpy's spatial_units from CUNITi).
double full_circle(const std::string& unit, const std::string& path, const char* key) {
    if (unit == "arcsec") return 1296000.0;
    if (unit == "deg") return 360.0;
    if (unit == "arcmin") return 21600.0;
    throw file_error(ErrorKind::unsupported, path, fmt::format("{} = '{}' is not supported (expected arcsec, arcmin or deg)", key, unit));
}

struct MapGeometry {
    double cdelt1, cdelt2, crpix1, crpix2;
    Matrix2 rotation;  // sunpy GenericMap.rotation_matrix
};

// sunpy GenericMap.rotation_matrix: PCi_j if any is present (missing ones from the identity), else
// CDi_j divided row-wise by CDELTi, else from CROTA2 (_rotation_matrix_from_crota / _pc_matrix).
MapGeometry map_geometry(const AiaImage& img) {
    const AiaHeader h = img.aia();
    const FitsHeader& f = img.header;
    MapGeometry g{};
    g.cdelt1 = h.cdelt1();
    g.cdelt2 = h.cdelt2();
    // reference_pixel: CRPIXi, defaulting to the array centre (naxis + 1) / 2.
    g.crpix1 = f.has("CRPIX1") ? h.crpix1() : (static_cast<double>(img.data.cols()) + 1) / 2.;
    g.crpix2 = f.has("CRPIX2") ? h.crpix2() : (static_cast<double>(img.data.rows()) + 1) / 2.;
    auto val = [&](const char* k, double dflt) { return f.has(k) ? h.require(k) : dflt; };
    if (f.has("PC1_1") || f.has("PC1_2") || f.has("PC2_1") || f.has("PC2_2")) {
        g.rotation = {{{val("PC1_1", 1), val("PC1_2", 0)}, {val("PC2_1", 0), val("PC2_2", 1)}}};
    } else if (f.has("CD1_1") || f.has("CD1_2") || f.has("CD2_1") || f.has("CD2_2")) {
        g.rotation = {{{val("CD1_1", 0) / g.cdelt1, val("CD1_2", 0) / g.cdelt1}, {val("CD2_1", 0) / g.cdelt2, val("CD2_2", 0) / g.cdelt2}}};
    } else {
        const double lam = g.cdelt2 / g.cdelt1;
        const double p = val("CROTA2", 0.0) * (std::numbers::pi / 180.0);  // np.deg2rad
        g.rotation = {{{std::cos(p), (-1 * lam) * std::sin(p)}, {(1 / lam) * std::sin(p), std::cos(p)}}};
    }
    return g;
}

// convolve2d(isnan(a), ones(k, k), mode='same'): NaN count in the k×k window centred on each pixel.
Image<double> nan_counts(const Image<double>& a, int k) {
    const auto rows = static_cast<std::ptrdiff_t>(a.rows()), cols = static_cast<std::ptrdiff_t>(a.cols());
    const std::ptrdiff_t h = k / 2;
    Image<double> out(a.rows(), a.cols(), 0.0);
    for (std::ptrdiff_t r = 0; r < rows; ++r)
        for (std::ptrdiff_t c = 0; c < cols; ++c) {
            if (!std::isnan(a(r, c))) continue;
            for (std::ptrdiff_t i = std::max<std::ptrdiff_t>(0, r - h); i <= std::min(rows - 1, r + h); ++i)
                for (std::ptrdiff_t j = std::max<std::ptrdiff_t>(0, c - h); j <= std::min(cols - 1, c + h); ++j) out(i, j) += 1.0;
        }
    return out;
}

// sunpy _rotation_scipy: scipy.ndimage.affine_transform(image.T, matrix, offset=shift, order,
// mode='constant', cval=missing).T — the transpose makes scipy's axis 0 the x axis.
Image<double> rotation_scipy(const Image<double>& image, const Matrix2& m, std::array<double, 2> shift, int order, double missing, PixelType dtype,
                             CoordinateSum sum) {
    AffineOptions o;
    o.order = order;
    o.cval = missing;
    o.output = dtype;
    o.coordinate_sum = sum;
    return transpose(affine_transform(transpose(image), m, shift, o));
}

}  // namespace

AiaImage rotate(const AiaImage& in, const RotateOptions& opt) {
    const std::string& path = in.path;
    if (opt.order < 0 || opt.order > 5) throw Error(ErrorKind::bad_value, fmt::format("rotate: order {} is not in 0..5", opt.order));
    if (!(opt.scale > 0) || !std::isfinite(opt.scale))
        throw Error(ErrorKind::bad_value, fmt::format("rotate: scale {} must be positive and finite", opt.scale));
    if (in.data.empty()) throw file_error(ErrorKind::bad_value, path, "empty image");
    const MapGeometry g = map_geometry(in);
    const Matrix2 r = opt.rmatrix.value_or(g.rotation);
    const Matrix2 rinv = numpy_inv2(r);
    const double scale = opt.scale, missing = opt.missing;
    const std::size_t ny = in.data.rows(), nx = in.data.cols();

    // Extent of the rotated, scaled frame from its four corners (x, y) = (−0.5 | nx−0.5, −0.5 | ny−0.5).
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (double cx : {-0.5, static_cast<double>(nx) - 0.5})
        for (double cy : {-0.5, static_cast<double>(ny) - 0.5}) {
            auto p = numpy_matvec2(r, {cx, cy});
            for (int k = 0; k < 2; ++k) {
                const double v = p[k] * scale;
                lo[k] = std::min(lo[k], v);
                hi[k] = std::max(hi[k], v);
            }
        }
    const long diff_x = static_cast<long>(std::ceil(((hi[0] - lo[0]) - static_cast<double>(nx)) / 2));
    const long diff_y = static_cast<long>(std::ceil(((hi[1] - lo[1]) - static_cast<double>(ny)) / 2));
    const std::size_t pad_x = static_cast<std::size_t>(std::max(diff_x, 0L)), pad_y = static_cast<std::size_t>(std::max(diff_y, 0L));
    const std::size_t unpad_x = opt.unpad ? static_cast<std::size_t>(std::max(-diff_x, 0L)) : 0;
    const std::size_t unpad_y = opt.unpad ? static_cast<std::size_t>(std::max(-diff_y, 0L)) : 0;
    if ((pad_x > 0 || pad_y > 0) && is_integer_dtype(in.dtype) && !(std::fmod(missing, 1.0) == 0.0))
        throw file_error(
            ErrorKind::bad_value, path,
            fmt::format("the data are integers ({}) but the fill value for missing pixels ({}) is not an integer; give an integer missing value",
                        to_string(in.dtype), missing));

    // np.pad(data, ..., constant_values=missing): the fill is stored in the data's dtype.
    const double fill = is_integer_dtype(in.dtype) ? missing : store_as(missing, in.dtype);
    const std::size_t py = ny + 2 * pad_y, px = nx + 2 * pad_x;
    Image<double> padded(py, px, fill);
    for (std::size_t y = 0; y < ny; ++y) std::copy_n(in.data.row(y), nx, padded.row(y + pad_y) + pad_x);

    // Centres (x, y): the array centre of the padded frame and the reference pixel (0-based) in it.
    const std::array<double, 2> array_center = {(static_cast<double>(px) - 1) / 2.0, (static_cast<double>(py) - 1) / 2.0};
    const std::array<double, 2> image_center = {(g.crpix1 - 1) + static_cast<double>(pad_x), (g.crpix2 - 1) + static_cast<double>(pad_y)};

    // sunpy.image.transform.affine_transform with recenter=True: matrix = Rinv / scale, the rotation
    // centre goes to the array centre.
    Matrix2 m{};
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) m[i][j] = rinv[i][j] / scale;
    const auto displacement = numpy_matvec2(m, array_center);
    const std::array<double, 2> shift = {image_center[0] - displacement[0], image_center[1] - displacement[1]};

    // add_rotation_function wrapper for method 'scipy' (handles NaN missing itself, not image NaNs).
    bool any_nan = false;
    for (double v : padded.pixels()) any_nan = any_nan || std::isnan(v);
    Image<double> rotated;
    if (any_nan) {
        // NaNs → nanmedian (np.nan_to_num also maps ±inf to the dtype's extremes), rotate, then put NaN
        // wherever the order-1 rotation of the k×k-dilated NaN mask is positive.
        const double substitute = nanmedian(padded, in.dtype);
        const double big = in.dtype == PixelType::f32 ? static_cast<double>(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
        Image<double> filled(padded);
        for (double& v : filled.pixels()) {
            if (std::isnan(v))
                v = substitute;
            else if (std::isinf(v) && !is_integer_dtype(in.dtype))
                v = v > 0 ? big : -big;
        }
        rotated = rotation_scipy(filled, m, shift, opt.order, missing, in.dtype, opt.coordinate_sum);
        static constexpr int sizes[6] = {1, 1, 5, 5, 7, 7};
        const Image<double> counts = nan_counts(padded, sizes[opt.order]);
        const Image<double> rotated_counts = rotation_scipy(counts, m, shift, std::min(opt.order, 1), 0.0, PixelType::f64, opt.coordinate_sum);
        for (std::size_t i = 0; i < rotated.size(); ++i)
            if (rotated_counts.data()[i] > 0) rotated.data()[i] = kNaN;
    } else {
        rotated = rotation_scipy(padded, m, shift, opt.order, missing, in.dtype, opt.coordinate_sum);
    }

    // Clip to the input range (including `missing` when it lies between the data's extremes and the
    // output's), skipped when everything is NaN. np.clip keeps NaN.
    const double out_min = nanmin(rotated);
    if (opt.clip && !std::isnan(out_min)) {
        double lower, upper;
        if (std::isnan(missing)) {
            lower = nanmin(padded);
            upper = nanmax(padded);
        } else {
            const double in_min = nanmin(padded), in_max = nanmax(padded);
            const double a = std::max(missing, out_min), b = std::min(missing, nanmax(rotated));
            lower = std::isnan(in_min) ? a : std::min(a, in_min);
            upper = std::isnan(in_max) ? b : std::max(b, in_max);
        }
        for (double& v : rotated.pixels())
            if (!std::isnan(v)) v = store_as(std::min(std::max(v, lower), upper), in.dtype);
    }

    // Unpad, then the header as sunpy writes it.
    const std::size_t oy = py - 2 * unpad_y, ox = px - 2 * unpad_x;
    AiaImage out;
    out.path = in.path;
    out.dtype = in.dtype;
    out.header = in.header;
    out.data = Image<double>(oy, ox);
    for (std::size_t y = 0; y < oy; ++y) std::copy_n(rotated.row(y + unpad_y) + unpad_x, ox, out.data.row(y));

    // CRVALi re-derived from the reference coordinate (SkyCoord → UnitSphericalRepresentation): the
    // longitude is wrapped to [0°, 360°) by astropy's Longitude and then to [−180°, 180°) by the
    // helioprojective frame, which can move its last bits (e.g. −4.53″ → (−4.53″ + 1296000″) − 1296000″).
    const AiaHeader h = in.aia();
    {
        const double full1 = full_circle(h.cunit1(), path, "CUNIT1");
        const double lon = wrap_at(wrap_at(h.crval1(), full1, full1), full1 / 2, full1);
        out.header.set_double("CRVAL1", lon);
        out.header.set_double("CRVAL2", h.crval2());
    }
    out.header.set_double("CRPIX1", (array_center[0] + 1) - static_cast<double>(unpad_x));
    out.header.set_double("CRPIX2", (array_center[1] + 1) - static_cast<double>(unpad_y));
    const Matrix2 pc = numpy_matmul2(g.rotation, rinv);
    out.header.set_double("PC1_1", pc[0][0]);
    out.header.set_double("PC1_2", pc[0][1]);
    out.header.set_double("PC2_1", pc[1][0]);
    out.header.set_double("PC2_2", pc[1][1]);
    if (scale != 1.0) {
        out.header.set_double("CDELT1", g.cdelt1 / scale);
        out.header.set_double("CDELT2", g.cdelt2 / scale);
    }
    for (const char* k : {"CROTA1", "CROTA2", "CD1_1", "CD1_2", "CD2_1", "CD2_2"}) out.header.erase(k);
    return out;
}

std::vector<std::string> register_warnings(const AiaImage& in) {
    const std::optional<double> level = in.header.get_double("LVL_NUM");
    if (!level || *level > 1) return {"Image registration should only be applied to level 1 data"};
    return {};
}

AiaImage register_image(const AiaImage& in, const RegisterOptions& opt) {
    const std::string& path = in.path;
    (void)in.aia().channel();  // AIA only (aiapy: TypeError unless AIAMap/HMIMap)
    const FullDiskCheck fd = contains_full_disk(in);
    if (!fd.full_disk) {
        std::string why = !fd.sun_centre_inside
            ? "the Sun centre is outside the image"
            : fmt::format("{} edge pixels lie on the disk, up to {:.1f}″ inside the limb", fd.edge_pixels_on_disk, -fd.margin_arcsec);
        throw file_error(ErrorKind::bad_value, path, "does not contain the full solar disk (register needs a full-disk image): " + why);
    }

    // Target scale: 0.6″/px, or the nearest multiple of it for a rebinned image (CDELT1 only).
    const double cdelt1 = in.aia().cdelt1();
    const double ratio = std::nearbyint(cdelt1 / 0.6);  // numpy round: half to even
    const bool full_res = in.data.rows() == 4096 && in.data.cols() == 4096;
    const double target = (ratio != 1.0 && !full_res) ? ratio * 0.6 : 0.6;

    RotateOptions ro;
    ro.scale = cdelt1 / target;
    ro.order = opt.order;
    ro.missing = opt.missing.value_or(nanmin(in.data));
    ro.unpad = !opt.full_frame;
    ro.coordinate_sum = coordinate_sum_for_scipy_minor(opt.scipy_minor);
    AiaImage out = rotate(in, ro);

    if (!opt.full_frame) {
        // Crop to the input's row count around floor(CRPIX1) on both axes (sunpy submap with pixel
        // corners lo and lo + n − 1; CRPIX1 is used for both axes, as aiapy assumes a square image).
        const double crpix1 = *out.header.get_double("CRPIX1"), crpix2 = *out.header.get_double("CRPIX2");
        const double center = std::floor(crpix1);
        const double n = static_cast<double>(in.data.rows());
        const double lo = center + (-n) / 2, hi = center + n / 2;
        auto clip_to = [](double v, std::size_t size) { return static_cast<std::size_t>(std::clamp(v, 0.0, static_cast<double>(size))); };
        const double first = std::floor(lo + 0.5), last = std::ceil((hi - 1) - 0.5) + 1;
        const std::size_t bottom = clip_to(first, out.data.rows()), top = clip_to(last, out.data.rows());
        const std::size_t left = clip_to(first, out.data.cols()), right = clip_to(last, out.data.cols());
        Image<double> crop(top > bottom ? top - bottom : 0, right > left ? right - left : 0);
        for (std::size_t y = 0; y < crop.rows(); ++y) std::copy_n(out.data.row(bottom + y) + left, crop.cols(), crop.row(y));
        out.data = std::move(crop);
        out.header.set_double("CRPIX1", ((crpix1 - 1) + 1) - static_cast<double>(left));
        out.header.set_double("CRPIX2", ((crpix2 - 1) + 1) - static_cast<double>(bottom));
    }

    const auto rsun_obs = out.header.get_double("RSUN_OBS");
    if (!rsun_obs) throw file_error(ErrorKind::missing_keyword, path, "missing keyword RSUN_OBS (register sets R_SUN = RSUN_OBS / CDELT1)");
    out.header.set_double("R_SUN", *rsun_obs / *out.header.get_double("CDELT1"));
    out.header.set_double("LVL_NUM", 1.5);
    // aiapy also sets meta['bitpix'] = -64, but the data keep their dtype (float32 stays float32) and
    // BITPIX is derived from the dtype when the image is written, so out.dtype = in.dtype.
    return out;
}

}  // namespace aiaccel::reference
