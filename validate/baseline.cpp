// Baseline regression gate (see baseline.hpp).
#include "validate/baseline.hpp"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace aiaccel::validate {

std::string row_key(const ResultRow& r) { return fmt::format("{}|{}|{}|{}|{}", r.stage, r.backend, r.precision, r.case_name, r.against); }

std::optional<double> row_value(const ResultRow& r, std::string_view name) {
    for (const auto& [k, v] : r.extra)
        if (k == name) return v;
    if (name == "max_abs_over_max") return r.metrics.max_abs_over_max;
    if (name == "rel_l2") return r.metrics.rel_l2;
    if (name == "max_abs") return r.metrics.max_abs;
    if (name == "nan_mismatch") return double(r.metrics.nan_mismatch);
    if (name == "shape_mismatch") return r.metrics.shape_ok ? 0.0 : 1.0;
    if (name == "bitwise_fraction") return r.metrics.bitwise_fraction();
    return std::nullopt;
}

Baseline Baseline::load(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw file_error(ErrorKind::unreadable, file.string(), "cannot read the baseline (expected the rows.json of a clean run)");
    std::vector<ResultRow> rows;
    try {
        const nlohmann::json doc = nlohmann::json::parse(in);
        const nlohmann::json& arr = doc.is_object() ? doc.at("rows") : doc;
        for (const auto& j : arr) rows.push_back(row_from_json(j));
    } catch (const std::exception& e) {
        throw file_error(ErrorKind::bad_value, file.string(), std::string("not a file of result rows: ") + e.what());
    }
    return Baseline(rows, file.string());
}

Baseline::Baseline(const std::vector<ResultRow>& rows, std::string source) : source_(std::move(source)) {
    for (const auto& r : rows)
        if (r.verdict != Verdict::skipped) rows_.emplace(row_key(r), r);
}

std::string Baseline::Regression::text() const {
    return fmt::format("{} grew {:.3g} → {:.3g} (> {:g}× the baseline, above the floor {:.3g})", metric, baseline, now, kRegressionGrowth, floor);
}

std::optional<std::vector<Baseline::Regression>> Baseline::check(const ResultRow& row, const Judgement& j) const {
    auto it = rows_.find(row_key(row));
    if (it == rows_.end()) return std::nullopt;
    std::vector<Regression> out;
    for (const auto& c : j.checks) {
        if (c.tolerance->is_lower_bound()) continue;
        const auto name = c.tolerance->value_name();
        const auto base = row_value(it->second, name);
        if (!base) continue;
        const double floor = regression_floor(name).floor;
        if (c.value > kRegressionGrowth * *base && c.value > floor) out.push_back({std::string(c.tolerance->metric), *base, c.value, floor});
    }
    return out;
}

}  // namespace aiaccel::validate
