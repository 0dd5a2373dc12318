// Fast CPU register: the pixels of aiapy.calibrate.register → sunpy GenericMap.rotate →
// scipy.ndimage.affine_transform (docs/algorithms.md §3.2–3.3) — padding, NaN substitute and dilated mask
// (§7.13), prefilter and interpolation (spline_prefilter_cpu.cpp, affine_transform_cpu.cpp), clip and
// aiapy's crop — on the plan of fast/common/register_plan (geometry, refusals, header) that the CUDA
// backend shares. Built without FMA contraction.
#include "fast/cpu/register_cpu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "fast/cpu/affine_transform_cpu.hpp"
#include "fast/common/parallel.hpp"
#include "fast/common/register_plan.hpp"
#include "fast/cpu/spline_prefilter_cpu.hpp"

namespace aiaccel::cpu {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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
    const T tfill = static_cast<T>(prepared(fill));
    parallel_for(py, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t y = b; y < e; ++y) {
            T* row = coef.row(y);
            if (y < f.pad_y || y >= f.pad_y + ny) {
                std::fill_n(row, px, tfill);
                continue;
            }
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
    if (req.order != 3)
        throw Error(ErrorKind::not_implemented,
                    fmt::format("cpu: register implements spline order 3 (aiapy's default), not {}; use --backend reference", req.order));
    threads = resolve_threads(threads);
    const RegisterPlan p = plan_register(in, req, threads);
    const Frame& f = p.frame;
    const Window& crop = p.crop;

    // Early clip: the bounds are the padded data's extremes, applied as pixels are made (crop only).
    const double early_clamp[2] = {p.pad.min, p.pad.max};
    const Window win = p.early_clip ? crop : Window{0, 0, f.py, f.px};
    auto run = [&](auto tag) {
        using T = decltype(tag);
        return rotate_window<T>(in, f, p.fill, p.pad, in.dtype, p.missing, win, p.early_clip ? early_clamp : nullptr, threads);
    };
    Rotated rot = precision == Precision::f64 ? run(double{}) : run(float{});

    AiaImage out;
    out.path = in.path;
    out.dtype = in.dtype;
    out.header = in.header;
    if (p.early_clip) {
        out.data = std::move(rot.pixels);
    } else {
        double lower = kNaN, upper = kNaN;
        const bool clip = !std::isnan(rot.min);
        if (clip) {
            const double a = std::max(p.missing, rot.min), b = std::min(p.missing, rot.max);
            lower = std::isnan(p.pad.min) ? a : std::min(a, p.pad.min);
            upper = std::isnan(p.pad.max) ? b : std::max(b, p.pad.max);
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
    write_registered_header(out, in, p, req.full_frame);
    return out;
}

}  // namespace aiaccel::cpu
