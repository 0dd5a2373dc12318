// Comparison metrics (see compare.hpp).
#include "validate/compare.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <vector>

namespace aiaccel::validate {

std::string Metrics::summary() const {
    if (!shape_ok) return "shape mismatch";
    return fmt::format("max|Δ|/max {:.3g}, rel L2 {:.3g}, NaN mismatches {}, bitwise equal {:.4f}% of {}", max_abs_over_max, rel_l2,
                       nan_mismatch, 100.0 * bitwise_fraction(), compared);
}

namespace {
// Pixels within `band` of an invalid pixel of ref (or of the image border when band > 0).
std::vector<unsigned char> edge_mask(const Image<double>& ref, int band, std::optional<double> invalid) {
    const long rows = long(ref.rows()), cols = long(ref.cols());
    auto bad = [&](long r, long c) {
        if (r < 0 || c < 0 || r >= rows || c >= cols) return true;
        double v = ref(std::size_t(r), std::size_t(c));
        return std::isnan(v) || (invalid && v == *invalid);
    };
    std::vector<unsigned char> mask(ref.size(), 0);
    for (long r = 0; r < rows; ++r)
        for (long c = 0; c < cols; ++c) {
            bool near = false;
            for (long dr = -band; dr <= band && !near; ++dr)
                for (long dc = -band; dc <= band && !near; ++dc) near = bad(r + dr, c + dc);
            mask[std::size_t(r * cols + c)] = near;
        }
    return mask;
}
}  // namespace

Metrics compare(const Image<double>& a, const Image<double>& ref, const CompareOptions& opt) {
    Metrics m;
    m.shape_ok = a.rows() == ref.rows() && a.cols() == ref.cols();
    if (!m.shape_ok) {
        m.max_abs = m.max_abs_over_max = m.rel_l2 = INFINITY;
        return m;
    }
    std::vector<unsigned char> excluded;
    if (opt.edge_band > 0) excluded = edge_mask(ref, opt.edge_band, opt.invalid_value);
    long double d2 = 0, r2 = 0;
    double ref_max = 0;
    for (std::size_t p = 0; p < ref.size(); ++p) {
        const double x = a.data()[p], y = ref.data()[p];
        const bool nx = std::isnan(x), ny = std::isnan(y);
        if (nx != ny) { ++m.nan_mismatch; continue; }
        if (nx || !std::isfinite(x) || !std::isfinite(y)) continue;
        if (!excluded.empty() && excluded[p]) continue;
        ++m.compared;
        m.bitwise_equal += (x == y);
        const double d = std::fabs(x - y);
        m.max_abs = std::max(m.max_abs, d);
        ref_max = std::max(ref_max, std::fabs(y));
        d2 += (long double)d * d;
        r2 += (long double)y * y;
    }
    m.max_abs_over_max = ref_max > 0 ? m.max_abs / ref_max : (m.max_abs > 0 ? INFINITY : 0.0);
    m.rel_l2 = r2 > 0 ? double(std::sqrt(d2 / r2)) : (d2 > 0 ? INFINITY : 0.0);
    return m;
}

Metrics compare_with_sums(const Image<double>& a, const Image<double>& ref) {
    Metrics m = compare(a, ref);
    long double sa = 0, sr = 0;
    for (double v : a.pixels()) sa += v;
    for (double v : ref.pixels()) sr += v;
    m.sum_a = double(sa);
    m.sum_ref = double(sr);
    return m;
}

}  // namespace aiaccel::validate
