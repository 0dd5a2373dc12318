// Verdicts from measured values and the tolerance table (see verdict.hpp).
#include "validate/verdict.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "reference/numpy_sum.hpp"

namespace aiaccel::validate {

std::optional<double> Measurement::value(std::string_view name) const {
    for (const auto& [k, v] : extra)
        if (k == name) return v;
    if (!has_image) return std::nullopt;
    if (name == "shape_mismatch") return metrics.shape_ok ? 0.0 : 1.0;
    if (name == "nan_mismatch") return double(metrics.nan_mismatch);
    if (!metrics.shape_ok) return std::nullopt;  // value metrics are meaningless across shapes
    if (name == "max_abs_over_max") return metrics.max_abs_over_max;
    if (name == "rel_l2") return metrics.rel_l2;
    if (name == "max_abs") return metrics.max_abs;
    if (name == "bitwise_fraction") return metrics.bitwise_fraction();
    return std::nullopt;
}

void Measurement::set(std::string name, double v) {
    for (auto& [k, x] : extra)
        if (k == name) {
            x = v;
            return;
        }
    extra.emplace_back(std::move(name), v);
}

std::string Check::text() const {
    auto num = [](double v) {
        if (v == std::round(v) && std::fabs(v) < 1e6) return fmt::format("{}", static_cast<long long>(v));
        return fmt::format("{:.3g}", v);
    };
    const char* rel = ok ? (tolerance->is_lower_bound() ? "≥" : "≤") : (tolerance->is_lower_bound() ? "<" : ">");
    return fmt::format("{} {} {} {}", tolerance->value_name(), num(value), rel, num(tolerance->bound));
}

const Check* Judgement::shown() const {
    if (failing) return &checks[*failing];
    if (main) return &checks[*main];
    return checks.empty() ? nullptr : &checks.front();
}

std::string Judgement::failing_metric() const { return failing ? std::string(checks[*failing].tolerance->metric) : std::string(); }

std::vector<std::string> Judgement::failed_texts() const {
    std::vector<std::string> v;
    for (const auto& c : checks)
        if (!c.ok) v.push_back(c.text());
    return v;
}

Judgement judge(const Measurement& m, std::span<const Tolerance* const> bounds) {
    Judgement j;
    for (const Tolerance* t : bounds) {
        auto v = m.value(t->value_name());
        if (!v) continue;
        j.checks.push_back({t, *v, t->accepts(*v)});
        const std::size_t i = j.checks.size() - 1;
        if (!j.checks[i].ok && !j.failing) j.failing = i;
        if (!j.main && t->stage != "*") j.main = i;
    }
    if (!j.main && !j.checks.empty()) j.main = 0;  // only structural checks apply (e.g. a refusal)
    if (j.failing) {
        j.verdict = Verdict::failed;
    } else if (!j.main) {
        j.verdict = Verdict::failed;
        j.note = "no tolerance row applies to any measured value (add one to validate/tolerances.cpp)";
    } else if (m.has_image && m.metrics.compared == 0) {
        j.verdict = Verdict::mistrusted;
        j.note = "no pixel was finite in both outputs: nothing was compared";
    } else {
        j.verdict = Verdict::passed;
    }
    return j;
}

Judgement judge(const Measurement& m, std::string_view stage, Against against, std::string_view backend, std::string_view precision) {
    const auto bounds = tolerances_for(stage, against, backend, precision);
    return judge(m, bounds);
}

namespace {
void add_disk_metrics(Measurement& m, const Image<double>& output, const Image<double>& ref, const SolarDisk& disk,
                      const std::vector<unsigned char>& compared) {
    const DiskMetrics dm = measure_disk(output, ref, disk, compared);
    if (dm.flux_ratio) {
        m.set("flux_ratio", *dm.flux_ratio);
        m.set("flux_ratio_minus_1", std::fabs(*dm.flux_ratio - 1.0));
    }
    if (dm.limb_profile) m.set("limb_profile_error", *dm.limb_profile);
    if (dm.on_disk) m.set("on_disk_max_rel", *dm.on_disk);
    if (dm.off_disk) m.set("off_disk_max_rel", *dm.off_disk);
}
}  // namespace

Measurement measure_pair(std::string_view stage, const Image<double>& output, const Image<double>& ref, std::optional<double> missing,
                         const std::optional<SolarDisk>& disk) {
    Measurement m;
    if (stage == "register") {
        const double fill = missing.value_or(std::nan(""));
        std::vector<unsigned char> compared;
        RegisterMetrics rm = compare_register(output, ref, fill, 2, disk ? &compared : nullptr);
        m.metrics = rm.metrics;
        if (rm.metrics.shape_ok) m.set("edge_flips", double(rm.flips));
        if (rm.metrics.shape_ok && disk) add_disk_metrics(m, output, ref, *disk, compared);
        return m;
    }
    m.metrics = compare(output, ref);
    if (m.metrics.shape_ok && disk) add_disk_metrics(m, output, ref, *disk, {});
    if (stage == "psf" && !output.empty()) {
        m.set("sum_minus_1", std::fabs(reference::numpy_sum(output.data(), output.size()) - 1.0));
        const std::size_t arg = std::size_t(std::max_element(output.data(), output.data() + output.size()) - output.data());
        const long r = long(arg / output.cols()), c = long(arg % output.cols());
        m.set("argmax_offset_px", double(std::max(std::labs(r - long(output.rows() / 2)), std::labs(c - long(output.cols() / 2)))));
    }
    return m;
}

PairVerdict judge_pair(std::string_view stage, const Image<double>& output, const Image<double>& ref, Against against, std::string_view backend,
                       std::string_view precision, std::optional<double> missing, const std::optional<SolarDisk>& disk) {
    PairVerdict p{measure_pair(stage, output, ref, missing, disk), {}};
    p.judgement = judge(p.measurement, stage, against, backend, precision);
    return p;
}

}  // namespace aiaccel::validate
