// One conformance suite for every registered backend (docs/validation.md §7, docs/architecture.md §8):
// one test per backend × stage × precision × Highway target, enumerated from the backend registry
// (registry/backend_registry.cpp) and its declared capabilities, and — for a stage whose capabilities
// say `highway` — from the Highway targets compiled in and supported by this CPU, each forced with
// hwy::SetSupportedTargetsForTest. Names read backend_stage_precision[_TARGET], e.g.
// cpu_register_f32_AVX2. Each test runs the stage's cases of validate's 'quick' set through validate's
// Runner (the same case definitions, stage drivers, judge and tolerance table as `aiaccel validate`),
// then a few small cases judged by the same judge (tests/conformance_cases.hpp). The reference is the
// ground truth: it gets the exact-answer cases only (its aiapy goldens: test_reference_* and validate).
// A backend that is not available here is SKIPPED with the registry's reason.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <string>
#include <vector>

#include "tests/conformance_cases.hpp"
#include "tests/golden_support.hpp"
#include "tests/test_support.hpp"
#include "registry/backend_registry.hpp"
#include "validate/case_list.hpp"
#include "validate/runner.hpp"

using namespace aiaccel;
using namespace aiaccel::validate;
namespace fs = std::filesystem;

namespace {

const CaseList& case_list() {
    static const CaseList list = [] {
        const fs::path root = test::testdata().parent_path();
        return load_case_list(root / "validate" / "cases.json", root, {});
    }();
    return list;
}

bool is_ground_truth(const BackendEntry& e) { return e.name == "reference"; }

// validate's quick cases of the stage; for the reference, the exact-answer ones only.
std::vector<const Case*> cases_for(const BackendEntry& e, Stage s) {
    std::vector<const Case*> out;
    for (const Case* c : select_cases(case_list(), {"quick"}))
        if (c->stage == to_string(s) && (!is_ground_truth(e) || c->is_synthetic())) out.push_back(c);
    return out;
}

std::vector<test::Combo> combos() {
    std::vector<test::Combo> out;
    for (const BackendEntry& e : registry::all_backends())
        for (Stage s : {Stage::psf, Stage::deconvolve, Stage::register_image}) {
            const StageCaps& caps = e.caps.of(s);
            if (cases_for(e, s).empty()) continue;
            for (Precision p : {Precision::f64, Precision::f32}) {
                if (!caps.accepts(p)) continue;
                if (!caps.highway) {
                    out.push_back({&e, s, p, 0});
                    continue;
                }
                for (const int64_t t : hwy::SupportedAndGeneratedTargets()) out.push_back({&e, s, p, t});
            }
        }
    return out;
}

std::string combo_name(const testing::TestParamInfo<test::Combo>& info) {
    const test::Combo& c = info.param;
    return fmt::format("{}_{}_{}{}", c.backend->name, to_string(c.stage), to_string(c.precision),
                       c.target ? fmt::format("_{}", hwy::TargetName(c.target)) : "");
}

std::vector<ResultRow> validate_rows(const test::Combo& c, const fs::path& out_dir) {
    RunOptions opt;
    opt.backends = {std::string(c.backend->name)};
    opt.stages = {std::string(to_string(c.stage))};
    opt.precisions = {std::string(to_string(c.precision))};
    opt.out_dir = out_dir;
    opt.registry = registry::all_backends();
    opt.log = [](const std::string& line) { std::printf("[conformance] %s\n", line.c_str()); };
    Runner runner(test::golden_store(), ReferenceCache(test::reference_cache_dir()), opt);
    return runner.run(cases_for(*c.backend, c.stage));
}

// True when the row PASSED; a SKIPPED row (a case the backend declares it cannot run) prints its reason.
bool expect_row_passed(const ResultRow& r, const std::string& target) {
    std::printf("[conformance] %s %s %s on %s: %s vs %s: %s %s\n", r.stage.c_str(), r.backend.c_str(), r.precision.c_str(), r.target.c_str(),
                r.case_name.c_str(), r.against.c_str(), std::string(to_string(r.verdict)).c_str(), result_text(r).c_str());
    if (r.verdict == Verdict::skipped) return false;
    EXPECT_EQ(r.verdict, Verdict::passed) << r.case_name << ": " << result_text(r) << "; " << fmt::format("{}", fmt::join(r.notes, "; "));
    if (!target.empty()) { EXPECT_EQ(r.target, target) << r.case_name << ": the row records the Highway target that ran"; }
    return r.verdict == Verdict::passed;
}

class Conformance : public testing::TestWithParam<test::Combo> {
protected:
    void SetUp() override {
        if (GetParam().target) hwy::SetSupportedTargetsForTest(GetParam().target);
    }
    void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

TEST_P(Conformance, Cases) {
    const test::Combo& c = GetParam();
    const Availability a = c.backend->probe();
    if (!a.available) GTEST_SKIP() << a.reason;
    const std::string target = c.target ? hwy::TargetName(c.target) : "";
    test::ScratchDir out;
    std::size_t passed = 0;
    for (const ResultRow& r : validate_rows(c, out.path())) passed += expect_row_passed(r, target);
    EXPECT_GT(passed, 0u) << "no case of validate's quick set ran";
    if (is_ground_truth(*c.backend)) return;
    const std::unique_ptr<Backend> be = c.backend->make();
    test::extra_cases(c, *be);
    if (!target.empty()) { EXPECT_EQ(be->target(c.stage), target); }
}

INSTANTIATE_TEST_SUITE_P(Registry, Conformance, testing::ValuesIn(combos()), combo_name);

}  // namespace
