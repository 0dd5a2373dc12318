// The case runner of `aiaccel validate` (benchdnn's model, docs/validation.md §1): for each case × stage ×
// backend × precision it runs the stage, compares the result (the reference with the aiapy goldens
// of each version; a fast backend with the reference; every backend with the exact answer of a
// synthetic case), judges it with the tolerance table, applies the baseline gate, and emits one
// result row — with wall time, peak memory, the command that reproduces it and, for a failure, FITS
// dumps of both outputs and their difference named for `aiaccel report` (…-output.fits,
// …-reference.fits, …-diff.fits). A backend that is not available here gives SKIPPED rows with its
// probe's reason, never PASSED.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <set>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "validate/baseline.hpp"
#include "validate/case_list.hpp"
#include "validate/golden_store.hpp"
#include "validate/reference_runs.hpp"
#include "validate/result_row.hpp"
#include "validate/stage_driver.hpp"
#include "validate/synthetic_cases.hpp"
#include "validate/tolerances.hpp"

namespace aiaccel::validate {

struct RunOptions {
    std::vector<std::string> backends = {"reference", "cpu", "cuda"};
    std::vector<std::string> stages = {"psf", "deconvolve", "register", "prep"};
    std::vector<std::string> precisions = {"f64", "f32"};
    std::filesystem::path out_dir = "validate-out";  // failure dumps go to <out_dir>/failures/
    // Also write ≤256-px previews (block mean; the difference as block max |Δ|) of every compared
    // output, its reference and their difference to <out_dir>/images/, for the report's pictures.
    bool preview_images = false;
    // The command every repro line starts with, including the options that must be repeated (e.g.
    // "/path/aiaccel validate --data DIR"); the case, stage, backend and precision are appended.
    std::string repro_prefix = "aiaccel validate";
    // The backends a name may select (the caller's: registry::all_backends(), plus any candidates); a
    // name not here gives SKIPPED rows. The harness links no backend itself.
    std::span<const BackendEntry> registry;
    const Baseline* baseline = nullptr;  // the regression gate, when given
    std::function<void(const std::string&)> log;  // progress lines (long computations)
    // Optional hooks (external candidates, validate/candidate_backend.hpp): after_row sees each decided
    // backend row with the backend that made it; bounds, when it returns a list, judges a row by it
    // instead of the tolerance table.
    std::function<void(ResultRow&, Backend&)> after_row;
    std::function<std::optional<std::vector<const Tolerance*>>(const ResultRow&, Against)> bounds;
};

// One line for a live table: the shown check ("max|Δ|/max 1.08e-17 ≤ 1e-12"), or the skip reason.
std::string result_text(const ResultRow& r);

class Runner {
public:
    Runner(const GoldenStore& store, ReferenceCache cache, RunOptions opt);
    ~Runner();

    // Every row of the selected cases, in case order; `on_row` sees each row when it is decided.
    std::vector<ResultRow> run(const std::vector<const Case*>& cases, const std::function<void(const ResultRow&)>& on_row = {});

private:
    struct Ctx;
    void reference_rows(const Case& c, const StageDriver& driver, Ctx& ctx);
    void fast_rows(const Case& c, const StageDriver& driver, const std::string& backend, const std::string& precision, Ctx& ctx);
    ResultRow exact_row(const Case& c, const StageDriver& driver, Backend& be, const std::string& backend, const std::string& precision);
    ResultRow new_row(const Case& c, const std::string& backend, const std::string& precision, const std::string& against);
    StageContext context();  // what a driver gets: the goldens, the reference runs, finish()
    // `input` (optional): the stage's input, previewed with --images as the row's "input" picture.
    void finish(ResultRow& row, const Measurement& m, Against against, const Image<double>* output, const Image<double>* ref,
                const Image<double>* input = nullptr);
    std::string dump(const ResultRow& row, const std::string& role, const Image<double>& img, const std::string& folder = "failures");
    static Image<double> preview(const Image<double>& a, const Image<double>* ref);
    const SyntheticCase& synthetic(const Case& c);
    const BackendEntry* entry(const std::string& name) const;

    const GoldenStore& store_;
    RunOptions opt_;
    ReferenceRuns runs_;
    MachineInfo machine_;
    std::map<std::string, std::unique_ptr<SyntheticCase>> synthetic_;
    std::set<std::string> inputs_shown_;  // cases whose input preview was written (--images)
};

}  // namespace aiaccel::validate
