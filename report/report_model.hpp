// What `aiaccel report` renders: result rows (validate/result_row.hpp) merged from one or more JSON
// files, and the views every renderer shares so JSON, Markdown and HTML say the same thing: verdict
// counts, ordered accuracy and speed tables, speed ratios, error-vs-iteration series, artifact roles.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/report_svg.hpp"
#include "validate/result_row.hpp"

namespace aiaccel::validate::report {

struct ReportRow {
    ResultRow row;
    std::filesystem::path base;  // folder of the JSON file the row came from: its artifacts are relative to it
    std::string source;  // that JSON file, as given on the command line
};

struct ReportData {
    std::string title = "aiaccel validation report";
    std::vector<ReportRow> rows;
    std::vector<std::string> inputs;  // the JSON files, in order
    std::string generated_utc;  // ISO 8601, e.g. "2025-01-31T12:00:00Z"
    std::string aiaccel_version;  // AIACCEL_VERSION of the build that rendered the report
    // Stages in pipeline order, as the caller knows them (aiaccel report: validate::stage_names()); the
    // report links no harness. Stages not listed come after these, by name.
    std::vector<std::string> stage_order;
};
std::string version_of(const ReportData& d);  // d.aiaccel_version, or this build's when empty

// Reads every file in order. Each holds an array of rows or an object {"rows": [...], ...}.
// Throws aiaccel::Error "<file>: <problem>" (exit code 2) for a missing file, invalid JSON, the wrong
// shape, or a row that is not a result row (unknown kind or verdict, metrics missing, wrong types).
ReportData load_rows(const std::vector<std::string>& paths);

// ---- Summary ---------------------------------------------------------------------------------
struct Summary {
    std::array<std::size_t, 4> counts{};  // indexed by Verdict: passed, mistrusted, failed, skipped
    std::size_t accuracy_rows = 0, speed_rows = 0;
    std::vector<std::string> machines;  // distinct machine descriptions, in order of first appearance
    std::size_t count(Verdict v) const { return counts[static_cast<std::size_t>(v)]; }
};
Summary summarize(const ReportData& d);
// "✅ 42 PASSED, 0 FAILED, 3 SKIPPED" (MISTRUSTED shown when there are any; ❌ when anything failed,
// ⚠️ when something is mistrusted, "no result rows" when empty). emoji = false uses ✓ ✗ ! instead,
// which every text font has (HTML must read right without an emoji font).
std::string headline(const Summary& s, bool emoji = true);
std::string machine_text(const MachineInfo& m);  // one line: CPU, threads, OS, compiler, GPU
std::string verdict_label(Verdict v, bool emoji = true);  // "✅ PASSED", "❌ FAILED", ... ("✓ PASSED" without emoji)
std::string verdict_css(Verdict v);  // "passed", "failed", ...

// ---- Numbers ---------------------------------------------------------------------------------
std::string sci(double v);  // "3.20e-05", "0", "NaN"
std::string seconds(double s);  // "1.23 s", "45.6 ms"
std::string times(double r);  // "12.3×"
std::string metric_name(std::string_view metric);  // "max_abs_over_max" -> "max|Δ|/max"
std::optional<double> metric_value(const ResultRow& r, std::string_view metric);

// ---- Tables (the same cells in Markdown and HTML) --------------------------------------------
struct Table {
    std::string stage;
    std::vector<std::string> header;
    struct Line {
        std::vector<std::string> cells;  // every column but the last ("verdict"), which renderers draw
        Verdict verdict;
        std::string note;  // why SKIPPED
    };
    std::vector<Line> lines;
    // Shown once under the table: "[1] <why this bound>"; the "bound" cells end with their " [N]".
    std::vector<std::string> footnotes;
};
// Rows of one kind ("accuracy" or "speed") ordered by stage, backend, precision, case.
std::vector<const ReportRow*> ordered(const ReportData& d, std::string_view kind);
std::vector<Table> accuracy_tables(const ReportData& d);  // one per stage
std::vector<Table> speed_tables(const ReportData& d);  // one per stage

// Speed ratios t_baseline / t_row (> 1: faster), same stage, case and machine:
//  * vs_aiapy: against ONE aiapy row, named in aiapy_baseline: the fastest non-accelerated aiapy
//    (backend "aiapy-<version>", e.g. "aiapy-0.12.1", the numpy path: the baseline to beat) when
//    there is one, else the fastest accelerated one ("aiapy-<version>+jax"); any precision.
//    Every aiapy flavour keeps its own row (and its own ratio to that baseline).
//  * vs_reference: against the "reference" row, same precision preferred.
//  * times_floor: t_row / t_floor (≥ 1; 1 = as fast as this machine can do) against the floor row of
//    the same stage, case and precision (backend "*-floor": "fftw-floor" for deconvolve,
//    "memcpy-floor" for register), same "threads" (extra metric) preferred. Floor rows themselves get
//    no ratios. "threads" and "pixels_per_s" are read from the row's extra metrics when present.
struct Speedup {
    const ReportRow* row = nullptr;
    std::optional<double> vs_aiapy, vs_reference, times_floor;
    std::string aiapy_baseline;  // backend of the aiapy row vs_aiapy is against ("" when none)
    std::string floor;  // backend of the floor row times_floor is against
};
// The paragraph above every speed table (Markdown and HTML say the same).
std::string speed_legend();
bool is_floor_backend(const std::string& backend);  // "fftw-floor", "memcpy-floor", ...
bool is_accelerated_aiapy(const std::string& backend);  // "aiapy-0.12.1+jax"
std::vector<Speedup> speedups(const ReportData& d);  // one per speed row, in ordered() order

// One line per FAILED row: "deconvolve · cuda · f32 · case: max|Δ|/max 3.2e-05 > bound 1.0e-06".
std::string failure_line(const ResultRow& r);
std::string row_label(const ResultRow& r);  // "deconvolve · cuda · f32 · case"

// ---- At a glance (the first screen: stage × backend × precision matrix and speedup chart) ----
// How close a measured accuracy row came to its bounds: the largest value / bound over the upper
// bounds > 0 that apply to it (the row's own recorded bound, and this build's tolerance table for
// its stage, comparison, backend and precision) whose value the row holds. 0 = exact, 1 = at the bound.
struct BoundFraction {
    double fraction = 0;
    std::string metric;  // the metric that came closest, display name ("max|Δ|/max")
};
std::optional<BoundFraction> worst_bound_fraction(const ResultRow& r);
std::string fraction_text(double f);  // "0.078% of bound", "0 (exact)", "3.2× bound"

struct MatrixCell {
    std::array<std::size_t, 4> counts{};  // indexed by Verdict
    std::size_t rows = 0;
    std::optional<BoundFraction> worst;  // over the cell's measured rows
    std::string worst_row;  // row_label of the row it came from
    std::string skip_reason;  // the first SKIPPED row's reason, without its parenthesis
    std::size_t count(Verdict v) const { return counts[static_cast<std::size_t>(v)]; }
};
// Accuracy rows only. Columns: the (backend, precision) pairs that have rows, in report order.
struct Matrix {
    std::vector<std::string> stages;
    std::vector<std::pair<std::string, std::string>> columns;
    std::vector<std::vector<MatrixCell>> cells;  // [stage][column]
};
Matrix accuracy_matrix(const ReportData& d);
// "none" (no rows), "failed", "mistrusted", "skipped" (nothing ran), else by the worst fraction:
// "far" (< 1% of the bound), "good" (< 10%), "mid" (< 50%), "near" (up to the bound).
std::string matrix_css(const MatrixCell& c);
std::string matrix_count_text(const MatrixCell& c);  // "16/16 passed", "1 FAILED of 8", "8 skipped", "—"
std::string matrix_detail_text(const MatrixCell& c);  // "≤ 0.078% of bound" (the worst row's), "built, but no device", ""
std::string matrix_legend();

// The headline speed chart: aiaccel backends only (no aiapy flavour, no floor), one bar per stage ·
// case · backend · precision at its fastest thread count, against that stage's aiapy baseline.
struct HeadlineBars {
    std::string title;
    std::vector<Bar> bars;
};
HeadlineBars headline_speed_bars(const ReportData& d);
std::string backend_colour(const std::string& backend);  // one colour per backend, shared by chart and matrix legend

// ---- Charts ----------------------------------------------------------------------------------
// max_abs_over_max against the "iterations" metric of deconvolve accuracy rows — every iteration's
// value for rows that carry iteration_max_rel (validation.md §2.2) — one series per backend ·
// precision · against · case family (the case name without its "itN" part).
std::vector<ChartSeries> iteration_series(const ReportData& d);
// Speedup bars for one stage: against aiapy where the stage has aiapy rows, else against reference.
struct StageBars {
    std::string stage, baseline;  // baseline: "aiapy" or "reference"
    std::string baseline_backend;  // the row the bars are against: "aiapy-0.12.1", "reference", ...
    std::vector<Bar> bars;
};
std::vector<StageBars> speedup_bars(const ReportData& d);

// ---- Artifacts -------------------------------------------------------------------------------
// The role of an artifact comes from its file name: the last word of the stem (split at '.', '_',
// '-') is input | reference / ref | output / out / backend | diff / difference; .png files are shown
// as they are; anything else is listed by name.
enum class ArtifactRole { input, reference, output, difference, png, other };
ArtifactRole artifact_role(const std::string& name);
std::string_view to_string(ArtifactRole r);
std::filesystem::path artifact_path(const ReportRow& r, const std::string& artifact);
// "artifact X of <row> not found (looked for <path>)" for every artifact that does not exist.
std::vector<std::string> missing_artifact_notes(const ReportData& d);

}  // namespace aiaccel::validate::report
