// The one tolerance table: stage × comparison × backend × precision → bound, each with its reason
// (docs/validation.md §4), and the parameters of the baseline regression gate. Tests, `aiaccel
// validate` and reports read bounds from here; nobody writes them inline.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace aiaccel::validate {

// What the result is compared with: the real aiapy (goldens), the reference port, or the exact
// answer of a synthetic case. `any` appears only in table rows that hold for every comparison.
enum class Against { aiapy, reference, exact, any };
std::string_view to_string(Against a);

// A metric name ending in "_min" is a lower bound (value ≥ bound); every other one an upper bound
// (value ≤ bound). The measured value is looked up under the name without "_min"/"_max" (except
// "max_abs_over_max", which is the value's own name).
// stage, backend and precision may be "*" (every one).
struct Tolerance {
    std::string_view stage;  // "psf", "deconvolve", "register", "prep", or "*"
    std::string_view metric;  // "max_abs_over_max", "rel_l2", "sum_minus_1", "bitwise_fraction_min", "edge_flips_max", ...
    Against against;
    std::string_view backend;  // "reference", "cpu", "cuda", or "*"
    std::string_view precision;  // "f64", "f32", or "*"
    double bound;
    std::string_view reason;

    bool is_lower_bound() const { return metric.size() > 4 && metric.substr(metric.size() - 4) == "_min"; }
    std::string_view value_name() const;  // metric without its "_min"/"_max" suffix
    bool accepts(double value) const { return is_lower_bound() ? value >= bound : value <= bound; }  // NaN: false
};

std::span<const Tolerance> tolerance_table();
// The bound for this exact row (no wildcards); throws std::out_of_range naming the key when absent.
const Tolerance& tolerance(std::string_view stage, std::string_view metric, Against against, std::string_view backend = "reference",
                           std::string_view precision = "f64");
// Every bound that applies to one comparison, one per metric (the most specific row wins), the
// structural ones (shape, NaN mask, ...) first, then the stage's rows in table order.
std::vector<const Tolerance*> tolerances_for(std::string_view stage, Against against, std::string_view backend, std::string_view precision);

// Baseline regression gate (`aiaccel validate --baseline F`): an error metric fails when it grew more
// than kRegressionGrowth × its baseline value and is above the metric's floor (below it, changes
// are round-off noise, not regressions).
inline constexpr double kRegressionGrowth = 2.0;
struct RegressionFloor {
    double floor;
    std::string_view reason;
};
RegressionFloor regression_floor(std::string_view value_name);

}  // namespace aiaccel::validate
