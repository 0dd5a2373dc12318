// The verdict of one comparison (benchdnn's model, docs/validation.md §1): measured values are checked against
// every bound the tolerance table holds for that stage × comparison × backend × precision, giving
// PASSED, FAILED (naming the first metric out of bounds) or MISTRUSTED (nothing was compared).
// Also the stage-aware pair comparison that `aiaccel validate` applies to a backend's output and
// the reference's (or the exact answer), and that the planted-error tests exercise.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/image.hpp"
#include "validate/compare.hpp"
#include "validate/disk_metrics.hpp"
#include "validate/result_row.hpp"
#include "validate/tolerances.hpp"

namespace aiaccel::validate {

struct Measurement {
    bool has_image = true;  // a pixel comparison was made (`metrics` is meaningful)
    Metrics metrics;
    std::vector<std::pair<std::string, double>> extra;  // stage-specific values: sum_minus_1, edge_flips, header_rel, ...
    std::vector<std::string> problems;  // exact requirements that failed, in words (counted in extra)

    // The value a tolerance row names (Tolerance::value_name()), or nullopt when not measured here.
    std::optional<double> value(std::string_view name) const;
    void set(std::string name, double v);  // adds or replaces an extra value
};

struct Check {
    const Tolerance* tolerance = nullptr;
    double value = 0;
    bool ok = false;
    std::string text() const;  // "max|Δ|/max 1.08e-17 ≤ 1e-12" / "nan_mismatch 1 > 0"
};

struct Judgement {
    Verdict verdict = Verdict::failed;
    std::vector<Check> checks;  // every bound that applied and was measured, in table order
    std::optional<std::size_t> failing;  // the first failed check
    std::optional<std::size_t> main;  // the first stage-specific check (else the first): what a PASSED row shows
    std::string note;  // why MISTRUSTED, or why FAILED without a failed check
    const Check* shown() const;  // the failing check, else the main one (nullptr if none)
    std::string failing_metric() const;  // Tolerance::metric of the failing check, "" when none
    std::vector<std::string> failed_texts() const;
};

Judgement judge(const Measurement& m, std::span<const Tolerance* const> bounds);
Judgement judge(const Measurement& m, std::string_view stage, Against against, std::string_view backend, std::string_view precision);

// Measures `output` against `ref` the way the stage's comparison does:
//  * register: compare_register with the fill value `missing` (edge band, flips);
//  * psf: compare() plus sum_minus_1 = |Σoutput − 1| (numpy's summation) and argmax_offset_px, the
//    Chebyshev distance of the output's peak from [n/2, n/2];
//  * deconvolve and anything else: compare().
// With the solar disk of the compared images (register, deconvolve on real inputs), the disk metrics
// too (disk_metrics.hpp, docs/validation.md §2.1), over the pixels the stage's comparison compared:
// flux_ratio and flux_ratio_minus_1 = |flux_ratio − 1|, limb_profile_error, on_disk_max_rel, off_disk_max_rel.
Measurement measure_pair(std::string_view stage, const Image<double>& output, const Image<double>& ref, std::optional<double> missing = std::nullopt,
                         const std::optional<SolarDisk>& disk = std::nullopt);

// measure_pair + judge: the one function that says whether a pair of outputs agrees.
struct PairVerdict {
    Measurement measurement;
    Judgement judgement;
};
PairVerdict judge_pair(std::string_view stage, const Image<double>& output, const Image<double>& ref, Against against, std::string_view backend,
                       std::string_view precision, std::optional<double> missing = std::nullopt, const std::optional<SolarDisk>& disk = std::nullopt);

}  // namespace aiaccel::validate
