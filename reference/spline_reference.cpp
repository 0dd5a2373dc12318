// scipy.ndimage spline prefilter and affine_transform (mode 'constant'), reference port.
// Mirrors, by name: ni_splines.c get_filter_poles, _apply_filter_gain, _init_causal_mirror,
// _init_anticausal_mirror, _apply_filter, get_spline_interpolation_weights; ni_interpolation.c
// map_coordinate, NI_SplineFilter1D, NI_GeometricTransform (scipy v1.15.3 and v1.17.1);
// _interpolation.py affine_transform / spline_filter / _prepad_for_spline_filter.
// Every expression keeps scipy's operand order; the library is built with -ffp-contract=off so
// that no multiply-add is fused behind our back.
#include "reference/spline_reference.hpp"

#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "core/error.hpp"

namespace aiaccel::reference {
namespace {

// get_filter_poles: the poles of the B-spline prefilter of each order (order/2 of them).
int filter_poles(int order, double* poles) {
    switch (order) {
        case 2: poles[0] = -0.171572875253809902396622551580603843; return 1;  // √8 − 3
        case 3: poles[0] = -0.267949192431122706472553658494127633; return 1;  // √3 − 2
        case 4:
            poles[0] = -0.361341225900220177092212841325675255;
            poles[1] = -0.013725429297339121360331226939128204;
            return 2;
        case 5:
            poles[0] = -0.430575347099973791851434783493520110;
            poles[1] = -0.043096288203264653822712376822550182;
            return 2;
        default: return 0;
    }
}

void check_order(int order, int lo) {
    if (order < lo || order > 5)
        throw Error(ErrorKind::bad_value, fmt::format("spline order {} is not supported (scipy.ndimage allows {}..5)", order, lo));
}

// Element i of a strided line.
struct Line {
    double* p;
    std::size_t stride;
    double& operator[](std::size_t i) const { return p[i * stride]; }
};

// Causal initialisation for the mirror boundary (_init_causal_mirror).
void init_causal_mirror(Line c, std::size_t n, double z) {
    double z_i = z;
    const double z_n_1 = std::pow(z, static_cast<double>(n - 1));
    c[0] = c[0] + z_n_1 * c[n - 1];
    for (std::size_t i = 1; i + 1 < n; ++i) {
        c[0] += z_i * (c[i] + z_n_1 * c[n - 1 - i]);
        z_i *= z;
    }
    c[0] /= 1 - z_n_1 * z_n_1;
}

// Anti-causal initialisation for the mirror boundary (_init_anticausal_mirror).
void init_anticausal_mirror(Line c, std::size_t n, double z) { c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1); }

// One pole: causal then anti-causal recursion (_apply_filter).
void apply_pole(Line c, std::size_t n, double z) {
    init_causal_mirror(c, n, z);
    for (std::size_t i = 1; i < n; ++i) c[i] += z * c[i - 1];
    init_anticausal_mirror(c, n, z);
    for (std::size_t i = n - 1; i-- > 0;) c[i] = z * (c[i + 1] - c[i]);
}

// map_coordinate(idx, len, NI_EXTEND_MIRROR) for an integer tap index, as the edge-tap offsets
// of NI_GeometricTransform compute it (len > 1: period 2·len − 2, no repeated edge sample).
std::int64_t mirror_index(std::int64_t in, std::int64_t len) {
    if (in < 0) {
        if (len <= 1) return 0;
        const std::int64_t sz2 = 2 * len - 2;
        in = sz2 * (-in / sz2) + in;
        return in <= 1 - len ? in + sz2 : -in;
    }
    if (in > len - 1) {
        if (len <= 1) return 0;
        const std::int64_t sz2 = 2 * len - 2;
        in -= sz2 * (in / sz2);
        if (in >= len) in = sz2 - in;
    }
    return in;
}

// Per-axis part of NI_GeometricTransform: first tap, tap offsets (mirrored at the border) and weights.
struct AxisTaps {
    std::int64_t idx[6];
    double w[6];
};

// Returns false when the coordinate is outside [0, len−1] (mode 'constant': the output is cval).
bool axis_taps(double cc, std::int64_t len, int order, AxisTaps& t) {
    // map_coordinate(.., NI_EXTEND_CONSTANT) sends cc < 0 and cc > len−1 to −1, and only cc > −1 is
    // interpolated: exactly 0 and len−1 are inside. A NaN coordinate passes map_coordinate unchanged
    // and fails `cc > −1`, so it gives cval too.
    if (cc < 0 || cc > static_cast<double>(len - 1)) return false;
    if (!(cc > -1.0)) return false;
    const std::int64_t start =
        (order & 1) ? static_cast<std::int64_t>(std::floor(cc)) - order / 2 : static_cast<std::int64_t>(std::floor(cc + 0.5)) - order / 2;
    const bool edge = start < 0 || start + order >= len;
    for (int l = 0; l <= order; ++l) t.idx[l] = edge ? mirror_index(start + l, len) : start + l;
    if (order != 0) spline_weights(cc, order, t.w);
    return true;
}

}  // namespace

void spline_weights(double x, int order, double* w) {
    // Delta to the middle knot (get_spline_interpolation_weights).
    x -= std::floor((order & 1) ? x : x + 0.5);
    double y = x, z = 1.0 - x, t;
    switch (order) {
        case 1: w[0] = 1.0 - x; break;
        case 2:
            w[1] = 0.75 - x * x;
            y = 0.5 - x;
            w[0] = 0.5 * y * y;
            break;
        case 3:
            w[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
            w[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
            w[0] = z * z * z / 6.0;
            break;
        case 4:
            t = x * x;
            w[2] = t * (t * 0.25 - 0.625) + 115.0 / 192.0;
            y = 1.0 + x;
            w[1] = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
            w[3] = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
            y = 0.5 - x;
            t = y * y;
            w[0] = t * t / 24.0;
            break;
        case 5:
            t = y * y;
            w[2] = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55;
            t = z * z;
            w[3] = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55;
            y += 1.0;
            w[1] = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
            z += 1.0;
            w[4] = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
            y = 1.0 - x;
            t = y * y;
            w[0] = y * t * t / 120.0;
            break;
        default: check_order(order, 1);
    }
    // The weights sum to one: the last is 1 minus the others, subtracted one by one.
    w[order] = 1.0;
    for (int i = 0; i < order; ++i) w[order] -= w[i];
}

void spline_filter_line(double* c, std::size_t n, std::size_t stride, int order) {
    check_order(order, 2);
    if (n <= 1) return;
    double poles[2];
    const int npoles = filter_poles(order, poles);
    // _apply_filter_gain: the product of (1 − z)(1 − 1/z) over the poles, applied to every sample.
    double gain = 1.0;
    for (int k = 0; k < npoles; ++k) gain *= (1.0 - poles[k]) * (1.0 - 1.0 / poles[k]);
    Line line{c, stride};
    for (std::size_t i = 0; i < n; ++i) line[i] *= gain;
    for (int k = 0; k < npoles; ++k) apply_pole(line, n, poles[k]);
}

namespace {
void filter_axis_inplace(Image<double>& a, int order, int axis) {
    if (axis == 0) {
        for (std::size_t c = 0; c < a.cols(); ++c) spline_filter_line(a.data() + c, a.rows(), a.cols(), order);
    } else {
        for (std::size_t r = 0; r < a.rows(); ++r) spline_filter_line(a.row(r), a.cols(), 1, order);
    }
}
}  // namespace

Image<double> spline_filter1d(const Image<double>& in, int order, int axis) {
    check_order(order, 0);
    if (axis != 0 && axis != 1) throw Error(ErrorKind::bad_value, fmt::format("spline_filter1d: axis {} of a 2-D array", axis));
    Image<double> out(in);  // scipy copies each line to a float64 buffer and filters it in place
    if (order >= 2) filter_axis_inplace(out, order, axis);
    return out;
}

Image<double> spline_filter(const Image<double>& in, int order) {
    check_order(order, 2);
    Image<double> out(in);
    filter_axis_inplace(out, order, 0);
    filter_axis_inplace(out, order, 1);
    return out;
}

double store_as(double t, PixelType dtype) {
    // CASE_INTERP_OUT / _INT / _UINT: round half away from zero, saturate, truncate.
    auto to_int = [&](double lo, double hi) {
        if (std::isnan(t)) return 0.0;  // C cast of NaN is undefined; numpy gives INT_MIN. Not reached by register.
        double v = t > 0 ? t + 0.5 : t - 0.5;
        v = v > hi ? hi : v;
        v = v < lo ? lo : v;
        return std::trunc(v);
    };
    switch (dtype) {
        case PixelType::f64: return t;
        case PixelType::f32: return static_cast<double>(static_cast<float>(t));
        case PixelType::i16: return to_int(-32768.0, 32767.0);
        case PixelType::i32: return to_int(-2147483648.0, 2147483647.0);
        case PixelType::u8: {
            if (std::isnan(t)) return 0.0;
            double v = t > 0 ? t + 0.5 : 0;
            v = v > 255.0 ? 255.0 : v;
            return std::trunc(v < 0 ? 0 : v);
        }
    }
    return t;
}

Image<double> affine_transform(const Image<double>& in, const Matrix2& m, std::array<double, 2> offset, const AffineOptions& opt,
                               std::size_t out_rows, std::size_t out_cols) {
    check_order(opt.order, 0);
    if (in.empty()) throw Error(ErrorKind::bad_value, "affine_transform: empty input array");
    if (out_rows == 0) out_rows = in.rows();
    if (out_cols == 0) out_cols = in.cols();
    const int order = opt.order;

    // _interpolation.py: prefilter only for order > 1; mode 'constant' gets no pre-padding (npad = 0).
    const Image<double> coef = (opt.prefilter && order > 1) ? spline_filter(in, order) : in;
    const auto len0 = static_cast<std::int64_t>(in.rows()), len1 = static_cast<std::int64_t>(in.cols());
    const double cval_stored = store_as(opt.cval, opt.output);

    Image<double> out(out_rows, out_cols);
    AxisTaps t0, t1;
    for (std::size_t o0 = 0; o0 < out_rows; ++o0) {
        const double d0 = static_cast<double>(o0);
        for (std::size_t o1 = 0; o1 < out_cols; ++o1) {
            const double d1 = static_cast<double>(o1);
            double c0, c1;
            if (opt.coordinate_sum == CoordinateSum::scipy_ge_1_16) {
                c0 = offset[0];
                c0 += d0 * m[0][0];
                c0 += d1 * m[0][1];
                c1 = offset[1];
                c1 += d0 * m[1][0];
                c1 += d1 * m[1][1];
            } else {
                c0 = 0.0;
                c0 += d0 * m[0][0];
                c0 += d1 * m[0][1];
                c0 += offset[0];
                c1 = 0.0;
                c1 += d0 * m[1][0];
                c1 += d1 * m[1][1];
                c1 += offset[1];
            }
            if (!axis_taps(c0, len0, order, t0) || !axis_taps(c1, len1, order, t1)) {
                out(o0, o1) = cval_stored;
                continue;
            }
            // Filter footprint in C order (axis-1 tap fastest): t += (coef · w0[a]) · w1[b].
            double acc = 0.0;
            for (int a = 0; a <= order; ++a) {
                const double* row = coef.row(static_cast<std::size_t>(t0.idx[a]));
                for (int b = 0; b <= order; ++b) {
                    double v = row[t1.idx[b]];
                    if (order > 0) {
                        v *= t0.w[a];
                        v *= t1.w[b];
                    }
                    acc += v;
                }
            }
            out(o0, o1) = store_as(acc, opt.output);
        }
    }
    return out;
}

}  // namespace aiaccel::reference
