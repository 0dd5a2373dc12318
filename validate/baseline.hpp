// The CI regression gate of `aiaccel validate --baseline F`: every error metric of a row is compared
// with the same row (stage, backend, precision, case, against) of a committed baseline run
// (reports/baseline.json, the rows of a clean `--cases quick` run). A metric that grew more than
// kRegressionGrowth × its baseline value and is above its floor (validate/tolerances.hpp) fails the
// row, even when it is still within its tolerance.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "validate/result_row.hpp"
#include "validate/verdict.hpp"

namespace aiaccel::validate {

std::string row_key(const ResultRow& r);  // "stage|backend|precision|case|against"
// The value of a metric (Tolerance::value_name) in a row: metrics fields, then extras.
std::optional<double> row_value(const ResultRow& r, std::string_view name);

class Baseline {
public:
    // Reads an array of rows or {"rows": [...]}; Error(unreadable / bad_value) naming the file.
    static Baseline load(const std::filesystem::path& file);
    explicit Baseline(const std::vector<ResultRow>& rows, std::string source = "baseline");

    struct Regression {
        std::string metric;  // the tolerance row's metric, e.g. "max_abs_over_max"
        double baseline = 0, now = 0, floor = 0;
        std::string text() const;  // "max_abs_over_max grew 4.35e-13 → 1.2e-12 (> 2× baseline, floor 1e-14)"
    };
    // Checks a judged row. Lower-bound metrics ("_min") are not error metrics and are ignored.
    // nullopt when the row is not in the baseline (nothing to compare).
    std::optional<std::vector<Regression>> check(const ResultRow& row, const Judgement& j) const;
    const std::string& source() const { return source_; }
    std::size_t size() const { return rows_.size(); }

private:
    std::map<std::string, ResultRow> rows_;
    std::string source_;
};

}  // namespace aiaccel::validate
