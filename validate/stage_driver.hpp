// One driver per validated stage (psf, deconvolve, register, prep): everything `aiaccel validate`
// knows about a stage lives in its driver: the case fields it needs, the cases it makes of a
// discovered file, its synthetic cases, the reference run and golden check of a row, and the call
// into a backend compared with the reference. The runner, the case list, the synthetic cases and
// `validate --list` iterate the drivers and never compare stage names. A new stage is a new driver
// in stage_drivers.cpp plus its entry in stage_drivers() (docs/architecture.md §7). `aiaccel bench`
// takes its cases and floors from the drivers too (bench()).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/backend.hpp"
#include "validate/case_list.hpp"
#include "validate/golden_store.hpp"
#include "validate/reference_runs.hpp"
#include "validate/result_row.hpp"
#include "validate/synthetic_cases.hpp"
#include "validate/verdict.hpp"

namespace aiaccel::validate {

// What the runner lends a driver for one row.
struct StageContext {
    const GoldenStore& store;
    ReferenceRuns& runs;
    // Judges `m` against the tolerance table and fills the row's verdict, bound, notes and pictures.
    std::function<void(ResultRow&, const Measurement& m, Against, const Image<double>* output, const Image<double>* ref, const Image<double>* input)>
        finish;
    const StageCaps* caps = nullptr;  // versus_reference rows: what the backend declares for this stage
};

// What `aiaccel bench` times for a stage (bench/bench_stages.cpp): the inputs (bench_inputs.hpp names
// them), the floor timed beside it, and whether its rows carry the Richardson–Lucy iteration count.
struct BenchSpec {
    std::vector<std::string> cases;  // empty: the stage is not timed
    std::string floor;  // "fftw-floor", "memcpy-floor" or none
    bool iterations = false;
    bool f32 = true;  // f32 rows too (psf: every backend computes it in float64; an f32 row would time that under an f32 label)
};

class StageDriver {
public:
    virtual ~StageDriver() = default;
    virtual std::string_view name() const = 0;
    // The Backend stage its rows run; nothing when no backend runs it (then only the reference has rows).
    virtual std::optional<Stage> backend_stage() const = 0;

    // Case list: throws std::runtime_error naming the case when a field the stage needs is missing.
    virtual void check_case(const Case& c) const = 0;
    // A real file found by discovery, as a case of this stage: sets the stage's own fields.
    virtual void discovered_case(Case& /*c*/) const {}
    // One line for `validate --list` when the case has no description.
    virtual std::string summary(const Case& c) const;
    // Fields every row of the case carries (e.g. deconvolve's iterations).
    virtual void row_extra(const Case& /*c*/, ResultRow& /*r*/) const {}
    // Why a backend with these capabilities cannot run this case (beyond stage and precision), or "".
    virtual std::string case_refusal(const Case& /*c*/, std::string_view /*backend*/, const Capabilities& /*caps*/) const { return {}; }

    // The reference compared with aiapy `version`'s goldens: fills `row` (SKIPPED with a reason when
    // the golden is absent).
    virtual void golden_row(const Case& c, const std::string& version, ResultRow& row, StageContext& ctx) const = 0;
    // Synthetic cases (exact answers): the input and the expected output; Error(usage) for a kind
    // this stage does not have.
    virtual SyntheticCase make_synthetic(const Case& c) const;
    // Runs the synthetic input through `be`.
    virtual Image<double> run_exact(Backend& be, const Case& c, const SyntheticCase& s, const StageOptions& so) const;
    // A backend compared with the reference on a real input: fills `row`.
    virtual void versus_reference(const Case& c, Backend& be, ResultRow& row, const StageOptions& so, StageContext& ctx) const;
    // Bench: what is timed for this stage.
    virtual BenchSpec bench() const { return {}; }
};

// Every stage, in pipeline order: psf, deconvolve, register, prep.
std::span<const StageDriver* const> stage_drivers();
// The driver named `name`, or null.
const StageDriver* find_stage_driver(std::string_view name);
// The driver named `name`; Error(usage) listing the stages otherwise.
const StageDriver& stage_driver(std::string_view name);
// The stage names, in pipeline order.
std::vector<std::string> stage_names();

}  // namespace aiaccel::validate
