// `aiaccel validate` can fail: errors planted into real reference outputs (one pixel off by 1e-6
// relative, a one-pixel shift, a NaN, a wrong shape, a flipped image) each give FAILED naming the
// right metric while identical outputs give PASSED; the tolerance table and the baseline gate
// behave as documented; the runner reports an unavailable backend as SKIPPED and a wrong one as
// FAILED with a repro line and FITS dumps; the CLI's exit codes are 0 / 1 / 2.
#include <gtest/gtest.h>

#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "reference/reference_backend.hpp"
#include "reference/register_reference.hpp"
#include "tests/golden_support.hpp"
#include "tests/test_support.hpp"
#include "validate/baseline.hpp"
#include "validate/case_list.hpp"
#include "validate/disk_metrics.hpp"
#include "validate/golden_checks.hpp"
#include "report/report_model.hpp"
#include "validate/runner.hpp"
#include "validate/stage_driver.hpp"
#include "registry/backend_registry.hpp"
#include "validate/verdict.hpp"

using namespace aiaccel;
using namespace aiaccel::validate;
namespace fs = std::filesystem;

namespace {

// The 128² full-disk 171 Å file registered by the reference (bit-identical to aiapy's output).
const AiaImage& registered_128() {
    static const AiaImage out = reference::register_image(test::golden_store().input("aia_171_level1"));
    return out;
}
double missing_128() {
    double m = INFINITY;
    for (double v : test::golden_store().input("aia_171_level1").data.pixels()) m = std::min(m, v);
    return m;
}
std::size_t argmax(const Image<double>& a) { return std::size_t(std::max_element(a.data(), a.data() + a.size()) - a.data()); }

// Judges `planted` against the true output with the fast-vs-reference register rows (cpu, f64).
PairVerdict judge_register(const Image<double>& planted) {
    return judge_pair("register", planted, registered_128().data, Against::reference, "cpu", "f64", missing_128());
}

// The registered file's solar disk (CRPIX/CDELT/RSUN_OBS of its header: R ≈ 50.7 px).
const SolarDisk& disk_128() {
    static const SolarDisk d = solar_disk(registered_128()).value();
    return d;
}
// `f(value, ρ)` applied to every valid pixel of the registered file, ρ = radius / R.
template <class F>
Image<double> planted_by_radius(F&& f) {
    Image<double> p = registered_128().data;
    const SolarDisk& d = disk_128();
    for (std::size_t r = 0; r < p.rows(); ++r)
        for (std::size_t c = 0; c < p.cols(); ++c)
            if (!std::isnan(p(r, c)) && p(r, c) != missing_128()) p(r, c) = f(p(r, c), std::hypot(double(c) - d.x0, double(r) - d.y0) / d.r, r, c);
    return p;
}
// Judges `planted` with the disk metrics, on the cpu float64 row (float32 output: max|Δ|/max ≤ 2e-7).
// Judged as a backend the table names only through its "*" rows (what any implementation, an external
// candidate included, must meet): the cpu and cuda float64 rows add a bitwise-identity bound that any
// planted error would fail as well, which would hide whether the disk metric itself caught it.
constexpr const char* kPlantedBackend = "planted";
PairVerdict judge_register_disk(const Image<double>& planted) {
    return judge_pair("register", planted, registered_128().data, Against::reference, kPlantedBackend, "f64", missing_128(), disk_128());
}
double bound_of(std::string_view metric) { return tolerance("register", metric, Against::reference, kPlantedBackend, "f64").bound; }
std::vector<std::string> failed_metrics(const Judgement& j) {
    std::vector<std::string> v;
    for (const auto& c : j.checks)
        if (!c.ok) v.emplace_back(c.tolerance->metric);
    return v;
}

}  // namespace

// ---- planted errors at the verdict level --------------------------------------------------------

TEST(PlantedErrors, IdenticalOutputsPass) {
    const auto v = judge_register(registered_128().data);
    EXPECT_EQ(v.judgement.verdict, Verdict::passed);
    ASSERT_NE(v.judgement.shown(), nullptr);
    EXPECT_EQ(v.judgement.shown()->tolerance->metric, "max_abs_over_max");
    EXPECT_EQ(v.judgement.shown()->value, 0.0);
    EXPECT_EQ(v.measurement.metrics.bitwise_fraction(), 1.0);
}

TEST(PlantedErrors, OnePixelOffByOneMillionthFailsOnMaxAbs) {
    Image<double> p = registered_128().data;
    p.data()[argmax(p)] *= 1 + 1e-6;
    const auto v = judge_register(p);
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    EXPECT_EQ(v.judgement.failing_metric(), "max_abs_over_max");
    EXPECT_NEAR(v.measurement.metrics.max_abs_over_max, 1e-6, 1e-9);
    EXPECT_EQ(v.measurement.metrics.compared - v.measurement.metrics.bitwise_equal, 1u);
    // The same pixel also fails the reference-vs-aiapy bounds, and float32 fast paths' looser ones
    // (2e-6) accept it: the verdict depends on the row, as it must.
    EXPECT_EQ(judge_pair("register", p, registered_128().data, Against::aiapy, "reference", "f64", missing_128()).judgement.verdict, Verdict::failed);
    EXPECT_EQ(judge_pair("register", p, registered_128().data, Against::reference, "cuda", "f32", missing_128()).judgement.verdict, Verdict::passed);
}

TEST(PlantedErrors, OnePixelShiftFailsOnMaxAbs) {
    const Image<double>& t = registered_128().data;
    Image<double> p(t.rows(), t.cols());
    for (std::size_t r = 0; r < t.rows(); ++r)
        for (std::size_t c = 0; c < t.cols(); ++c) p(r, c) = t(r, c == 0 ? 0 : c - 1);
    const auto v = judge_register(p);
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    EXPECT_EQ(v.judgement.failing_metric(), "max_abs_over_max");
    EXPECT_GT(v.measurement.metrics.max_abs_over_max, 1e-3);
}

TEST(PlantedErrors, NanFailsOnNanMask) {
    Image<double> p = registered_128().data;
    p(64, 64) = std::nan("");
    const auto v = judge_register(p);
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    EXPECT_EQ(v.judgement.failing_metric(), "nan_mismatch_max");
    EXPECT_EQ(v.measurement.metrics.nan_mismatch, 1u);
}

TEST(PlantedErrors, WrongShapeFailsOnShape) {
    const Image<double>& t = registered_128().data;
    Image<double> p(t.rows() - 1, t.cols());
    for (std::size_t r = 0; r < p.rows(); ++r)
        for (std::size_t c = 0; c < p.cols(); ++c) p(r, c) = t(r, c);
    const auto v = judge_register(p);
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    EXPECT_EQ(v.judgement.failing_metric(), "shape_mismatch_max");
    EXPECT_FALSE(v.measurement.metrics.shape_ok);
}

TEST(PlantedErrors, FlippedImageFailsOnMaxAbs) {
    const Image<double>& t = registered_128().data;
    Image<double> p(t.rows(), t.cols());
    for (std::size_t r = 0; r < t.rows(); ++r)
        for (std::size_t c = 0; c < t.cols(); ++c) p(r, c) = t(t.rows() - 1 - r, c);
    const auto v = judge_register(p);
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    EXPECT_EQ(v.judgement.failing_metric(), "max_abs_over_max");
}

// ---- planted errors that only the solar-disk metrics see (docs/validation.md §2.1) -----------------

TEST(DiskMetrics, RadiusFromRsunObsNeverRSun) {
    // The synoptic trap: a 1024² level-1.5 header whose R_SUN is the 4096² frame's 1625 px.
    AiaImage m;
    m.header = synthetic_aia_header(2.4, 512.5, 0.0);
    m.header.set_double("RSUN_OBS", 975.96);
    m.header.set_double("R_SUN", 1625.0);
    const SolarDisk d = solar_disk(m).value();
    EXPECT_NEAR(d.r, 975.96 / 2.4, 1e-9);
    EXPECT_NEAR(d.x0, 511.5, 1e-9);
    EXPECT_NEAR(d.y0, 511.5, 1e-9);
    m.header = FitsHeader{};
    EXPECT_FALSE(solar_disk(m).has_value());  // no WCS: the row keeps its whole-image metrics only
}

TEST(DiskMetrics, IdenticalOutputsPassWithExactValues) {
    const auto v = judge_register_disk(registered_128().data);
    EXPECT_EQ(v.judgement.verdict, Verdict::passed);
    EXPECT_EQ(v.measurement.value("flux_ratio"), 1.0);
    for (const char* m : {"flux_ratio_minus_1", "limb_profile_error", "on_disk_max_rel", "off_disk_max_rel"})
        EXPECT_EQ(v.measurement.value(m), 0.0) << m;
    EXPECT_GT(measure_disk(registered_128().data, registered_128().data, disk_128(), {}).limb_bins, 20u);
}

TEST(DiskMetrics, DiskFluxScaledFailsOnFluxRatioOnly) {
    // 3× the flux bound on the disk only: far inside max|Δ|/max, rel L2 and the limb profile's bounds.
    const double eps = 3 * bound_of("flux_ratio_minus_1");
    const auto v = judge_register_disk(planted_by_radius([&](double x, double rho, auto, auto) { return rho <= 1 ? x * (1 + eps) : x; }));
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    EXPECT_EQ(failed_metrics(v.judgement), std::vector<std::string>{"flux_ratio_minus_1"});
    EXPECT_NEAR(*v.measurement.value("flux_ratio"), 1 + eps, eps * 1e-3);
}

TEST(DiskMetrics, LimbShiftedByAFractionOfAPixelFailsOnLimbProfile) {
    // The limb moved outward by s px (first order: + s·∂I/∂ρ across 0.9–1.1 R). Every metric is linear
    // in s: s is taken midway between where the limb profile leaves its bound and where a pixel would
    // leave max|Δ|/max's, so only the radial average can see it.
    const Image<double>& t = registered_128().data;
    const SolarDisk& d = disk_128();
    auto radial_gradient = [&](std::size_t r, std::size_t c) {
        const double dx = double(c) - d.x0, dy = double(r) - d.y0;
        const long sc = dx > 0 ? 1 : -1, sr = dy > 0 ? 1 : -1;  // one-sided differences towards the outside
        const double gx = t(r, std::size_t(long(c) + sc)) - t(r, c), gy = t(std::size_t(long(r) + sr), c) - t(r, c);
        return (std::fabs(dx) * gx + std::fabs(dy) * gy) / std::hypot(dx, dy);
    };
    auto limb = [&](double s) {
        return planted_by_radius(
            [&](double x, double rho, std::size_t r, std::size_t c) { return rho > 0.9 && rho < 1.1 ? x + s * radial_gradient(r, c) : x; });
    };
    const auto unit = judge_register_disk(limb(1.0)).measurement;
    const double s_limb = bound_of("limb_profile_error") / *unit.value("limb_profile_error");
    const double s_pixel = bound_of("max_abs_over_max") / unit.metrics.max_abs_over_max;
    ASSERT_LT(s_limb, s_pixel);
    const double s = (s_limb + s_pixel) / 2;
    EXPECT_LT(s, 1e-3);  // a small fraction of a pixel
    const auto v = judge_register_disk(limb(s));
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    const auto failed = failed_metrics(v.judgement);
    EXPECT_NE(std::find(failed.begin(), failed.end(), "limb_profile_error"), failed.end());
    EXPECT_EQ(std::find(failed.begin(), failed.end(), "max_abs_over_max"), failed.end());
    // A shift of 0.05 px fails max|Δ|/max too, and the limb profile by far.
    EXPECT_GT(*judge_register_disk(limb(0.05)).measurement.value("limb_profile_error"), 100 * bound_of("limb_profile_error"));
}

TEST(DiskMetrics, OffDiskGarbageFailsOffDiskWhileTheDiskPasses) {
    // ±a on every 4th pixel beyond 1.2 R, a midway between the off-disk bound × the off-disk maximum and
    // max|Δ|/max's bound × the maximum (the corona is dimmer than the disk): nothing on the disk or
    // across the limb changes, no pixel leaves max|Δ|/max's bound.
    double max_off = 0;
    (void)planted_by_radius([&](double x, double rho, auto, auto) { return rho > 1 ? (max_off = std::max(max_off, std::fabs(x)), x) : x; });
    const double a_off = bound_of("off_disk_max_rel") * max_off, a_pixel = bound_of("max_abs_over_max") * pixel_stats(registered_128().data).max;
    ASSERT_LT(a_off, a_pixel);
    const double a = (a_off + a_pixel) / 2;
    const auto v = judge_register_disk(planted_by_radius(
        [&](double x, double rho, std::size_t r, std::size_t c) { return rho > 1.2 && r % 4 == 0 && c % 4 == 0 ? x + ((r + c) % 8 ? a : -a) : x; }));
    EXPECT_EQ(v.judgement.verdict, Verdict::failed);
    EXPECT_EQ(failed_metrics(v.judgement), std::vector<std::string>{"off_disk_max_rel"});
    EXPECT_EQ(v.measurement.value("on_disk_max_rel"), 0.0);
    EXPECT_EQ(v.measurement.value("flux_ratio"), 1.0);
    EXPECT_EQ(v.measurement.value("limb_profile_error"), 0.0);
}

TEST(DiskMetrics, OneNanOnTheDiskFailsOnTheNanMask) {
    Image<double> p = registered_128().data;
    p(std::size_t(disk_128().y0), std::size_t(disk_128().x0)) = std::nan("");
    const auto v = judge_register_disk(p);
    EXPECT_EQ(failed_metrics(v.judgement), std::vector<std::string>{"nan_mismatch_max"});
    EXPECT_EQ(v.measurement.value("flux_ratio"), 1.0);  // the NaN pixel is left out of both sums
}

TEST(PlantedErrors, OtherStagesFailToo) {
    // deconvolve's float64 bound (1e-12) on a real output-sized pair; psf's extras (peak position).
    Image<double> a = registered_128().data, b = a;
    b.data()[argmax(b)] *= 1 + 1e-6;
    auto d = judge_pair("deconvolve", b, a, Against::reference, "cpu", "f64");
    EXPECT_EQ(d.judgement.failing_metric(), "max_abs_over_max");
    Image<double> psf(64, 64, 0.0), moved(64, 64, 0.0);
    psf(32, 32) = 1.0;
    moved(32, 33) = 1.0;
    EXPECT_EQ(judge_pair("psf", psf, psf, Against::reference, "cpu", "f64").judgement.verdict, Verdict::passed);
    auto pv = judge_pair("psf", moved, psf, Against::reference, "cpu", "f64");
    EXPECT_EQ(pv.judgement.verdict, Verdict::failed);
    EXPECT_EQ(pv.measurement.value("argmax_offset_px"), 1.0);
}

TEST(PlantedErrors, NothingComparedIsMistrusted) {
    Image<double> nan(8, 8, std::nan(""));
    EXPECT_EQ(judge_pair("deconvolve", nan, nan, Against::reference, "cpu", "f64").judgement.verdict, Verdict::mistrusted);
}

TEST(PlantedErrors, GoldenComparisonFailsOnAPlantedPixel) {
    // The reference-vs-aiapy path itself: the registered file with one pixel off, vs aiapy's golden.
    auto g = test::golden_item("0.10.2", "register:aia_171_level1");
    if (!g) GTEST_SKIP() << "register golden not present";
    AiaImage out = registered_128();
    out.data.data()[argmax(out.data)] *= 1 + 1e-6;
    const auto& in = test::golden_store().input("aia_171_level1");
    const auto gc = register_vs_golden(in, &out, nullptr, *g, test::golden_store());
    const auto j = judge(gc.measurement, "register", Against::aiapy, "reference", "f64");
    EXPECT_EQ(j.verdict, Verdict::failed);
    EXPECT_EQ(j.failing_metric(), "max_abs_over_max");
    EXPECT_EQ(gc.measurement.value("sha256_equal"), 0.0);
    const auto ok = register_vs_golden(in, &registered_128(), nullptr, *g, test::golden_store());
    EXPECT_EQ(judge(ok.measurement, "register", Against::aiapy, "reference", "f64").verdict, Verdict::passed);
}

TEST(PlantedErrors, GoldenComparisonFailsOnAMissingOrExtraWarning) {
    // aiapy did not warn on the level-1 file; the same input marked level 1.5 (or without LVL_NUM) makes
    // the reference warn, which the comparison must count (and nothing else).
    auto g = test::golden_item("0.10.2", "register:aia_171_level1");
    if (!g) GTEST_SKIP() << "register golden not present";
    AiaImage in = test::golden_store().input("aia_171_level1");
    for (const bool drop : {false, true}) {
        if (drop)
            in.header.erase("LVL_NUM");
        else
            in.header.set_double("LVL_NUM", 1.5);
        const auto gc = register_vs_golden(in, &registered_128(), nullptr, *g, test::golden_store());
        const auto j = judge(gc.measurement, "register", Against::aiapy, "reference", "f64");
        EXPECT_EQ(j.verdict, Verdict::failed);
        EXPECT_EQ(j.failing_metric(), "warning_mismatch_max");
        EXPECT_EQ(gc.measurement.metrics.max_abs_over_max, 0.0);  // the pixels are aiapy's
    }
}

// ---- the tolerance table and the baseline gate ---------------------------------------------------

TEST(Tolerances, EveryRowHasAReasonAndAFiniteBound) {
    for (const auto& t : tolerance_table()) {
        EXPECT_FALSE(t.reason.empty()) << t.stage << "/" << t.metric;
        EXPECT_TRUE(std::isfinite(t.bound) && t.bound >= 0) << t.stage << "/" << t.metric;
    }
    // Structural rows first, then the stage's; the most specific row wins.
    const auto f = tolerances_for("deconvolve", Against::reference, "cuda", "f32");
    ASSERT_GE(f.size(), 4u);
    EXPECT_EQ(f[0]->metric, "shape_mismatch_max");
    bool max_found = false;
    for (const auto* t : f)
        if (t->metric == "max_abs_over_max") {
            max_found = true;
            EXPECT_EQ(t->bound, 5e-6);
        }
    EXPECT_TRUE(max_found);
    EXPECT_EQ(tolerance("psf", "max_abs_over_max", Against::aiapy).bound, 1e-12);
    EXPECT_THROW(tolerance("psf", "no_such_metric", Against::aiapy), std::out_of_range);
}

TEST(BaselineGate, GrowthAboveTheFloorFailsNamingTheMetric) {
    ResultRow base;
    base.stage = "psf", base.backend = "reference", base.precision = "f64", base.case_name = "psf-171", base.against = "aiapy-0.10.2";
    base.verdict = Verdict::passed;
    base.metrics.shape_ok = true;
    base.metrics.max_abs_over_max = 1e-16;
    base.extra = {{"sum_minus_1", 1e-13}};
    const Baseline b({base});
    auto judged = [&](double max_rel, double sum) {
        Measurement m;
        m.metrics.shape_ok = true;
        m.metrics.compared = 10;
        m.metrics.max_abs_over_max = max_rel;
        m.set("sum_minus_1", sum);
        return judge(m, "psf", Against::aiapy, "reference", "f64");
    };
    // sum_minus_1 ×4 and above the 1e-14 floor: a regression although within its 1e-12 bound.
    auto r = b.check(base, judged(1e-16, 4e-13));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].metric, "sum_minus_1");
    // max|Δ|/max ×50 but below the floor: round-off noise, not a regression; ×1.5: not either.
    EXPECT_TRUE(b.check(base, judged(5e-15, 1.5e-13))->empty());
    ResultRow other = base;
    other.case_name = "psf-94";
    EXPECT_FALSE(b.check(other, judged(1, 1)).has_value());
}

// ---- the case list --------------------------------------------------------------------------------

TEST(CaseList, QuickIsASubsetAndUnknownNamesAreUsageErrors) {
    const fs::path root = test::testdata().parent_path();
    test::ScratchDir extra;
    fs::copy_file(test::real_file("aia_171_level1.fits"), extra / "my_extra_file.fits");
    const CaseList list = load_case_list(root / "validate" / "cases.json", root, extra.path());
    const auto quick = select_cases(list, {"quick"});
    const auto full = select_cases(list, {"full"});
    EXPECT_GT(quick.size(), 5u);
    EXPECT_GT(full.size(), quick.size());
    for (const std::string& stage : stage_names())
        EXPECT_TRUE(std::any_of(quick.begin(), quick.end(), [&](const Case* c) { return c->stage == stage; })) << stage;
    // The extra real file becomes cases of its own (fast backends vs the reference), in full only.
    EXPECT_TRUE(std::any_of(full.begin(), full.end(), [](const Case* c) { return c->name == "file-my_extra_file-register"; }));
    EXPECT_EQ(select_cases(list, {"psf-171", "register-aia_171_level1"}).size(), 2u);
    try {
        (void)select_cases(list, {"psf-999"});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_NE(std::string(e.what()).find("psf-999"), std::string::npos);
    }
}

// ---- the runner with a planted backend --------------------------------------------------------------

namespace {
// A backend that registers like the reference but moves one pixel by 1e-6 relative.
class PlantedBackend final : public Backend {
public:
    std::string_view name() const override { return "planted"; }
    bool supports(Precision) const override { return true; }
    Image<double> psf(const PsfRequest& r, const StageOptions&) override { return ref_->psf(r, {}); }
    Image<double> deconvolve(const Image<double>& i, const Image<double>& p, const DeconvolveRequest& r, const StageOptions&) override {
        return ref_->deconvolve(i, p, r, {});
    }
    AiaImage register_image(const AiaImage& img, const RegisterRequest& r, const StageOptions&) override {
        AiaImage out = ref_->register_image(img, r, {});
        out.data.data()[argmax(out.data)] *= 1 + 1e-6;
        return out;
    }

private:
    std::unique_ptr<Backend> ref_ = reference::make_backend();
};
std::unique_ptr<Backend> make_planted() { return std::make_unique<PlantedBackend>(); }
Availability planted_probe() { return {true, "planted: available (test backend)"}; }
Availability absent_probe() { return {false, "absent: not here (test backend)"}; }
std::unique_ptr<Backend> make_none() { return nullptr; }
const BackendEntry kTestBackends[] = {
    {"reference", "the reference", &reference::probe, &reference::make_backend},
    {"planted", "one pixel off", &planted_probe, &make_planted},
    {"absent", "never available", &absent_probe, &make_none},
};
}  // namespace

TEST(Runner, PlantedBackendFailsWithReproAndDumpsAbsentOneIsSkipped) {
    const fs::path root = test::testdata().parent_path();
    const CaseList list = load_case_list(root / "validate" / "cases.json", root, {});
    test::ScratchDir out;
    RunOptions opt;
    opt.backends = {"reference", "planted", "absent"};
    opt.precisions = {"f64"};
    opt.out_dir = out.path();
    opt.registry = kTestBackends;
    Runner runner(test::golden_store(), ReferenceCache(), opt);
    const auto rows = runner.run(select_cases(list, {"register-aia_171_level1", "synthetic-delta-psf"}));
    int planted_failed = 0, absent_skipped = 0, passed = 0;
    for (const auto& r : rows) {
        SCOPED_TRACE(r.backend + " " + r.case_name + " " + r.against);
        if (r.backend == "absent") {
            EXPECT_EQ(r.verdict, Verdict::skipped);
            EXPECT_EQ(r.skip_reason, "absent: not here (test backend)");
            ++absent_skipped;
        } else if (r.backend == "planted" && r.stage == "register") {
            EXPECT_EQ(r.verdict, Verdict::failed);
            EXPECT_EQ(r.bound_metric, "max_abs_over_max");
            EXPECT_NE(r.repro.find("--cases register-aia_171_level1 --stages register --backends planted --precision f64"), std::string::npos);
            ASSERT_EQ(r.artifacts.size(), 3u);
            std::vector<report::ArtifactRole> roles;
            for (const auto& a : r.artifacts) {
                EXPECT_TRUE(fs::is_regular_file(out.path() / a)) << a;
                roles.push_back(report::artifact_role(a));
            }
            EXPECT_EQ(roles, (std::vector{report::ArtifactRole::output, report::ArtifactRole::reference, report::ArtifactRole::difference}));
            const Image<double> diff = read_fits((out.path() / r.artifacts[2]).string()).data;
            std::size_t nonzero = 0;
            for (double v : diff.pixels()) nonzero += v != 0;
            EXPECT_EQ(nonzero, 1u);
            ++planted_failed;
        } else {
            EXPECT_EQ(r.verdict, Verdict::passed) << result_text(r);
            EXPECT_GT(r.peak_rss_mib, 0);
            ++passed;
        }
    }
    EXPECT_EQ(planted_failed, 1);
    EXPECT_EQ(absent_skipped, 2);
    EXPECT_GE(passed, 3);  // reference vs aiapy (0.10.2, 0.12.1 when present), delta PSF (reference and planted)
}

namespace {

// The named cases of validate/cases.json, run with one backend at f64 over `store`.
std::vector<ResultRow> run_listed_cases(const GoldenStore& store, const std::vector<std::string>& names, const std::string& backend) {
    const fs::path root = test::testdata().parent_path();
    const CaseList list = load_case_list(root / "validate" / "cases.json", root, {});
    test::ScratchDir out;
    RunOptions opt;
    opt.backends = {backend};
    opt.precisions = {"f64"};
    opt.out_dir = out.path();
    opt.registry = registry::all_backends();
    return Runner(store, ReferenceCache(), opt).run(select_cases(list, names));
}

bool have_synoptic() {
    const fs::path d = test::golden_store().data_dir();
    return !d.empty() && fs::is_regular_file(d / "synoptic" / "AIA20140101_0000_0171.fits");
}

}  // namespace

TEST(Runner, SynopticCasesRunFromAiaDataDirAndSkipWithoutIt) {
    // register-synoptic-*: real level-1.5 1024² files read from AIA_DATA_DIR/synoptic at run time.
    const GoldenStore bare(test::testdata());  // no data folder: SKIPPED, naming where it looked
    const auto skipped = run_listed_cases(bare, {"register-synoptic-0171"}, "cpu");
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_EQ(skipped[0].verdict, Verdict::skipped);
    EXPECT_NE(skipped[0].skip_reason.find("input not available"), std::string::npos) << skipped[0].skip_reason;
    if (!have_synoptic()) GTEST_SKIP() << "AIA_DATA_DIR has no synoptic/ files";
    const auto rows = run_listed_cases(test::golden_store(), {"register-synoptic-0171"}, "cpu");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].verdict, Verdict::passed) << result_text(rows[0]);
    EXPECT_TRUE(row_value(rows[0], "flux_ratio").has_value());  // the whole disk is in the frame
    EXPECT_TRUE(row_value(rows[0], "limb_profile_error").has_value());
}

TEST(Runner, SynopticCalibrationAndRegisterMatchAiapyAndSkipWithoutTheFiles) {
    // prep-synoptic-0171 (correct_degradation:synoptic, exposure:synoptic) and register-synoptic-0171 vs
    // both releases' goldens: the reference rows, SKIPPED without AIA_DATA_DIR/synoptic.
    const std::vector<std::string> names = {"prep-synoptic-0171", "register-synoptic-0171"};
    for (const auto& r : run_listed_cases(GoldenStore(test::testdata()), names, "reference")) {
        EXPECT_EQ(r.verdict, Verdict::skipped) << result_text(r);
        EXPECT_NE(r.skip_reason.find("input not available"), std::string::npos) << r.skip_reason;
    }
    if (!have_synoptic()) GTEST_SKIP() << "AIA_DATA_DIR has no synoptic/ files";
    const auto rows = run_listed_cases(test::golden_store(), names, "reference");
    ASSERT_EQ(rows.size(), 4u);  // two cases x two aiapy releases
    for (const auto& r : rows) {
        EXPECT_EQ(r.verdict, Verdict::passed) << result_text(r);
        if (r.stage == "register") {
            EXPECT_EQ(row_value(r, "warning_mismatch"), 0.0);  // aiapy warned, and so did we
        }
    }
}

// ---- declared capabilities and stage drivers ----------------------------------------------------------

TEST(Capabilities, RegistryDeclaresWhatEachBackendRuns) {
    const Capabilities& ref = registry::find_backend("reference").caps;
    EXPECT_TRUE(ref.thread_safe);
    EXPECT_TRUE(ref.deconvolve.progress);
    EXPECT_FALSE(ref.accepts(Precision::f32));
    EXPECT_EQ(ref.refusal("reference", Stage::deconvolve, Precision::f32), "reference: no f32 implementation");
    const Capabilities& cpu = registry::find_backend("cpu").caps;
    EXPECT_FALSE(cpu.thread_safe);
    EXPECT_EQ(cpu.refusal("cpu", Stage::register_image, Precision::f32), "");
    EXPECT_EQ(cpu.refusal("cpu", Stage::register_image, Precision::f64, 1), "cpu: register implements spline order 3, not 1");
    EXPECT_EQ(registry::find_backend("cuda").caps.device, "gpu");
    EXPECT_TRUE(registry::find_backend("cuda").caps.register_image.f32_computes_in_f64);
}

TEST(Runner, AStageABackendDeclaresItCannotRunIsSkippedWithThatReason) {
    const Capabilities kNoF32Register = [] {
        Capabilities c;
        c.register_image.f32 = false;
        return c;
    }();
    const BackendEntry entries[] = {
        {"reference", "the reference", &reference::probe, &reference::make_backend},
        {"planted", "one pixel off, no f32 register", &planted_probe, &make_planted, kNoF32Register},
    };
    const fs::path root = test::testdata().parent_path();
    const CaseList list = load_case_list(root / "validate" / "cases.json", root, {});
    test::ScratchDir out;
    RunOptions opt;
    opt.backends = {"planted"};
    opt.precisions = {"f32"};
    opt.out_dir = out.path();
    opt.registry = entries;
    Runner runner(test::golden_store(), ReferenceCache(), opt);
    const auto rows = runner.run(select_cases(list, {"synthetic-identity-register"}));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].verdict, Verdict::skipped);
    EXPECT_EQ(rows[0].skip_reason, "planted: no f32 implementation");
}

TEST(StageDrivers, OnePerStageInPipelineOrderAndTheCaseListChecksTheirFields) {
    EXPECT_EQ(stage_names(), (std::vector<std::string>{"psf", "deconvolve", "register", "prep"}));
    EXPECT_FALSE(stage_driver("prep").backend_stage().has_value());
    EXPECT_EQ(*stage_driver("register").backend_stage(), Stage::register_image);
    EXPECT_EQ(find_stage_driver("calibrate"), nullptr);
    try {
        (void)stage_driver("calibrate");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("known: psf, deconvolve, register, prep"), std::string::npos) << e.what();
    }
    test::ScratchDir dir;
    const auto load = [&](const std::string& body) {
        std::ofstream(dir / "cases.json") << body;
        return load_case_list(dir / "cases.json", dir.path(), {});
    };
    EXPECT_EQ(load(R"({"cases": [{"name": "p", "stage": "psf", "channel": 171}]})").cases.size(), 1u);
    for (const char* bad :
         {R"({"cases": [{"name": "p", "stage": "psf"}]})", R"({"cases": [{"name": "d", "stage": "deconvolve", "input": "derived"}]})",
          R"({"cases": [{"name": "x", "stage": "calibrate"}]})"}) {
        try {
            (void)load(bad);
            ADD_FAILURE() << bad;
        } catch (const Error& e) { EXPECT_EQ(e.kind(), ErrorKind::bad_value) << bad; }
    }
}

// ---- the command line -------------------------------------------------------------------------------

TEST(ValidateCli, ExitCodesRowsAndTheBaselineGate) {
    test::ScratchDir dir;
    const std::string cache = (dir / "cache").string(), out = (dir / "out").string();
    // Usage errors: 2.
    EXPECT_EQ(test::run_aiaccel({"validate", "--cases", "no-such-case", "--out", out}).exit_code, 2);
    EXPECT_EQ(test::run_aiaccel({"validate", "--backends", "gpu", "--out", out}).exit_code, 2);
    EXPECT_EQ(test::run_aiaccel({"validate", "--precision", "f16", "--out", out}).exit_code, 2);
    EXPECT_EQ(test::run_aiaccel({"validate", "--baseline", (dir / "absent.json").string(), "--out", out}).exit_code, 2);

    // A clean run: 0, a live table with PASSED and SKIPPED (with the probe's reason), rows.json.
    auto ok = test::run_aiaccel({"validate", "--cases", "psf-171,synthetic-identity-register", "--out", out, "--cache", cache});
    ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_NE(ok.out.find("PASSED"), std::string::npos);
    EXPECT_NE(ok.out.find("SKIPPED  psf        cuda"), std::string::npos) << ok.out;
    EXPECT_NE(ok.out.find("PASSED   register   cpu"), std::string::npos) << ok.out;
    EXPECT_EQ(ok.out.find("FAILED "), std::string::npos);
    std::ifstream rows_in(dir / "out" / "rows.json");
    nlohmann::json doc = nlohmann::json::parse(rows_in);
    ASSERT_GE(doc.at("rows").size(), 4u);
    bool have_psf = false;
    for (auto& row : doc["rows"]) {
        if (row.at("verdict") == "SKIPPED") continue;
        EXPECT_GT(row.at("time_s").get<double>(), 0);
        EXPECT_GT(row.at("peak_rss_mib").get<double>(), 0);
        if (row.at("case") == "psf-171" && row.at("against") == "aiapy-0.10.2") {
            have_psf = true;
            // Plant the baseline: |ΣP − 1| was 4× smaller, and the check is within its tolerance.
            for (auto& [k, v] : row["metrics"].items())
                if (k == "sum_minus_1") v = v.get<double>() / 4;
        }
    }
    if (!have_psf) GTEST_SKIP() << "PSF golden not present";
    const fs::path baseline = dir / "baseline.json";
    std::ofstream(baseline) << doc.dump();

    // The same run against that baseline: 1, naming the metric; the reference comes from the cache.
    auto gate = test::run_aiaccel(
        {"validate", "--cases", "psf-171", "--backends", "reference", "--out", out, "--cache", cache, "--baseline", baseline.string()});
    EXPECT_EQ(gate.exit_code, 1) << gate.out << gate.err;
    EXPECT_NE(gate.out.find("FAILED   psf"), std::string::npos) << gate.out;
    EXPECT_NE(gate.out.find("sum_minus_1 grew"), std::string::npos) << gate.out;
    EXPECT_NE(gate.out.find("(reference cached)"), std::string::npos) << gate.out;
    EXPECT_NE(gate.out.find("repro: "), std::string::npos);
    EXPECT_NE(gate.out.find("--cases psf-171 --stages psf --backends reference --precision f64"), std::string::npos);
    // Its dumps are there, named for `aiaccel report`, which renders them.
    EXPECT_NE(gate.out.find("-output.fits"), std::string::npos);
    auto rep = test::run_aiaccel({"report", (dir / "out" / "rows.json").string(), "-o", (dir / "report").string()});
    EXPECT_EQ(rep.exit_code, 0) << rep.err;
    std::ifstream html(dir / "report" / "index.html");
    const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
    EXPECT_NE(page.find("difference map"), std::string::npos);
}
