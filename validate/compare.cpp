// Comparison metrics (see compare.hpp).
#include "validate/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <vector>

namespace aiaccel::validate {

std::string Metrics::summary() const {
    if (!shape_ok) return "shape mismatch";
    return fmt::format("max|Δ|/max {:.3g}, rel L2 {:.3g}, NaN mismatches {}, bitwise equal {:.4f}% of {}", max_abs_over_max, rel_l2, nan_mismatch,
                       100.0 * bitwise_fraction(), compared);
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
        if (nx != ny) {
            ++m.nan_mismatch;
            continue;
        }
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

// ---- register ---------------------------------------------------------------------------------

std::string RegisterMetrics::summary() const {
    if (!metrics.shape_ok) return "shape mismatch";
    return fmt::format("{} px, bitwise {:.6f} %, max|Δ|/max {:.3e}, rel L2 {:.3e} (outside band, {} px in band), flips {}, NaN mismatches {}",
                       metrics.compared, 100 * metrics.bitwise_fraction(), metrics.max_abs_over_max, metrics.rel_l2, band, flips,
                       metrics.nan_mismatch);
}

// Relative distance from `missing` below which a value is the missing value up to float32 round-off.
constexpr double kFlipRoundoff = 1e-6;

RegisterMetrics compare_register_window(const Image<double>& got, const Image<double>& want, std::size_t r0, std::size_t c0, double missing, int band,
                                        std::vector<unsigned char>* valued) {
    RegisterMetrics rm;
    Metrics& m = rm.metrics;
    const std::size_t nr = want.rows(), nc = want.cols();
    m.shape_ok = r0 + nr <= got.rows() && c0 + nc <= got.cols();
    if (!m.shape_ok) {
        m.max_abs = m.max_abs_over_max = m.rel_l2 = INFINITY;
        return rm;
    }
    auto valid = [&](double v) { return !std::isnan(v) && v != missing; };
    Image<unsigned char> bad(nr, nc, 0);
    for (std::size_t r = 0; r < nr; ++r)
        for (std::size_t c = 0; c < nc; ++c) bad(r, c) = !valid(want(r, c)) || !valid(got(r0 + r, c0 + c));
    auto near_bad = [&](std::size_t r, std::size_t c) {
        for (long dr = -band; dr <= band; ++dr)
            for (long dc = -band; dc <= band; ++dc) {
                const long gr = long(r0 + r) + dr, gc = long(c0 + c) + dc;
                if (gr < 0 || gc < 0 || gr >= long(got.rows()) || gc >= long(got.cols())) continue;
                const long wr = long(r) + dr, wc = long(c) + dc;
                if (wr >= 0 && wc >= 0 && wr < long(nr) && wc < long(nc)) {
                    if (bad(std::size_t(wr), std::size_t(wc))) return true;
                } else if (!valid(got(std::size_t(gr), std::size_t(gc)))) {
                    return true;
                }
            }
        return false;
    };
    long double d2 = 0, r2 = 0;
    double ref_max = 0;
    if (valued) valued->assign(want.size(), 0);
    for (std::size_t r = 0; r < nr; ++r)
        for (std::size_t c = 0; c < nc; ++c) {
            const double a = got(r0 + r, c0 + c), b = want(r, c);
            ++m.compared;
            if (std::isnan(a) != std::isnan(b)) ++m.nan_mismatch;
            if (std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b))) ++m.bitwise_equal;
            if (valid(a) != valid(b) && !(std::fabs(a - b) <= kFlipRoundoff * std::fabs(missing))) ++rm.flips;
            if (valid(b)) ref_max = std::max(ref_max, std::fabs(b));
            if (!valid(a) || !valid(b)) continue;
            if (near_bad(r, c)) {
                ++rm.band;
                continue;
            }
            const double d = std::fabs(a - b);
            m.max_abs = std::max(m.max_abs, d);
            d2 += (long double)d * d;
            r2 += (long double)b * b;
            if (valued) (*valued)[r * nc + c] = 1;
        }
    m.max_abs_over_max = ref_max > 0 ? m.max_abs / ref_max : m.max_abs;
    m.rel_l2 = r2 > 0 ? double(std::sqrt(d2 / r2)) : (d2 > 0 ? INFINITY : 0.0);
    return rm;
}

RegisterMetrics compare_register(const Image<double>& got, const Image<double>& want, double missing, int band, std::vector<unsigned char>* valued) {
    if (got.rows() != want.rows() || got.cols() != want.cols()) {
        RegisterMetrics rm;
        rm.metrics.max_abs = rm.metrics.max_abs_over_max = rm.metrics.rel_l2 = INFINITY;
        return rm;
    }
    return compare_register_window(got, want, 0, 0, missing, band, valued);
}

}  // namespace aiaccel::validate
