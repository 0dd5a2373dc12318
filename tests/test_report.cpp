// `aiaccel report` and its rendering library: PNG round trips, base64, the colormap, downsampling,
// Markdown headline and repro lines, self-contained HTML, zero and SKIPPED rows, missing or
// unreadable artifacts, speed ratios, iteration series, atomic writes, and the CLI's bad-input path.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "tests/test_support.hpp"
#include "report/report.hpp"
#include "report/report_image.hpp"
#include "report/report_png.hpp"

using namespace aiaccel;
using namespace aiaccel::validate;
using namespace aiaccel::validate::report;
namespace fs = std::filesystem;

namespace {

ResultRow accuracy_row(std::string stage, std::string backend, std::string precision, std::string case_name, Verdict v) {
    ResultRow r;
    r.kind = "accuracy";
    r.stage = std::move(stage);
    r.backend = std::move(backend);
    r.precision = std::move(precision);
    r.case_name = std::move(case_name);
    r.against = "reference";
    r.metrics.shape_ok = true;
    r.metrics.max_abs_over_max = 3e-7;
    r.metrics.rel_l2 = 1e-7;
    r.bound = 1e-5;
    r.bound_metric = "max_abs_over_max";
    r.bound_reason = "float32 FFT round-off";
    r.verdict = v;
    r.machine.cpu = "test CPU";
    r.machine.threads = 2;
    return r;
}

ResultRow speed_row(std::string stage, std::string backend, std::string precision, double t, std::string cpu = "test CPU") {
    ResultRow r;
    r.kind = "speed";
    r.stage = std::move(stage);
    r.backend = std::move(backend);
    r.precision = std::move(precision);
    r.case_name = "psf-171";
    r.verdict = Verdict::passed;
    r.time_s = t;
    r.machine.cpu = std::move(cpu);
    return r;
}

fs::path write_rows(const fs::path& path, const std::vector<ResultRow>& rows, bool wrapped = false) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows) a.push_back(to_json(r));
    std::ofstream(path) << (wrapped ? nlohmann::json{{"rows", a}, {"note", "test"}} : a).dump(1);
    return path;
}

// The rows of these files in the stage order `aiaccel report` hands the report (validate::stage_names(),
// checked in tests/test_validate.cpp): the report links no harness to ask.
ReportData load(const std::vector<std::string>& paths) {
    ReportData d = load_rows(paths);
    d.stage_order = {"psf", "deconvolve", "register", "prep"};
    return d;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

}  // namespace

TEST(ReportPng, GreyRoundTrip) {
    Raster r{7, 5, 1, {}};
    for (std::size_t i = 0; i < 35; ++i) r.pixels.push_back(static_cast<std::uint8_t>(i * 7));
    auto png = encode_png(r);
    ASSERT_GT(png.size(), 8u + 25u);
    const std::uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    EXPECT_TRUE(std::equal(sig, sig + 8, png.begin()));
    EXPECT_EQ(std::string(png.begin() + 12, png.begin() + 16), "IHDR");
    EXPECT_EQ(png[19], 7);  // width, big-endian
    EXPECT_EQ(png[23], 5);  // height
    Raster back = decode_png(png);
    EXPECT_EQ(back.width, 7u);
    EXPECT_EQ(back.height, 5u);
    EXPECT_EQ(back.channels, 1);
    EXPECT_EQ(back.pixels, r.pixels);
}

TEST(ReportPng, RgbRoundTripAndBadRaster) {
    Raster r{3, 2, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90}};
    Raster back = decode_png(encode_png(r));
    EXPECT_EQ(back.channels, 3);
    EXPECT_EQ(back.pixels, r.pixels);
    Raster bad{3, 2, 3, {1, 2, 3}};
    EXPECT_THROW(encode_png(bad), Error);
    EXPECT_EQ(png_data_uri(r).rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);
}

TEST(ReportPng, Base64KnownVectors) {
    auto b = [](std::string s) { return base64({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}); };
    EXPECT_EQ(b(""), "");
    EXPECT_EQ(b("f"), "Zg==");
    EXPECT_EQ(b("fo"), "Zm8=");
    EXPECT_EQ(b("foo"), "Zm9v");
    EXPECT_EQ(b("foobar"), "Zm9vYmFy");
}

TEST(ReportImage, ColormapLightnessRises) {
    auto luminance = [](std::array<std::uint8_t, 3> c) {
        auto lin = [](double v) {
            v /= 255;
            return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
        };
        return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
    };
    double prev = -1;
    for (int i = 0; i <= 32; ++i) {
        double y = luminance(colormap(i / 32.0));
        EXPECT_GT(y, prev) << "t = " << i / 32.0;
        prev = y;
    }
    EXPECT_LT(luminance(colormap(0)), 0.05);
    EXPECT_GT(luminance(colormap(1)), 0.7);
}

TEST(ReportImage, DownsampleKeepsSidesWithinLimitAndIgnoresNaN) {
    Image<double> img(1000, 700, 1.0);
    img(0, 0) = NAN;
    img(0, 1) = 5.0;
    auto small = downsample_mean(img, 512);
    EXPECT_LE(std::max(small.rows(), small.cols()), 512u);
    EXPECT_EQ(small.rows(), 500u);
    EXPECT_EQ(small.cols(), 350u);
    EXPECT_DOUBLE_EQ(small(0, 0), (5.0 + 1.0 + 1.0) / 3.0);
    Image<double> d(4, 4, 0.0);
    d(3, 3) = INFINITY;  // a NaN mismatch wins its block
    d(0, 0) = 1e-3;
    auto mx = downsample_max(d, 2);
    EXPECT_DOUBLE_EQ(mx(0, 0), 1e-3);
    EXPECT_TRUE(std::isinf(mx(1, 1)));
    auto m = render_log_difference(d, 1.0, 2);
    EXPECT_EQ(m.nan_mismatch, 1u);
    EXPECT_NEAR(m.vmax, -3.0, 1e-12);
    // Row 0 of the image is drawn at the bottom: block (1, 1) is the top-right pixel of the picture.
    EXPECT_EQ(m.raster.pixels[3], kMismatchColour[0]);
}

TEST(ReportModel, ArtifactRoles) {
    EXPECT_EQ(artifact_role("case.input.fits"), ArtifactRole::input);
    EXPECT_EQ(artifact_role("dumps/psf_171_ref.fits"), ArtifactRole::reference);
    EXPECT_EQ(artifact_role("x-reference.fits.gz"), ArtifactRole::reference);
    EXPECT_EQ(artifact_role("x.output.fits"), ArtifactRole::output);
    EXPECT_EQ(artifact_role("x_out.fits"), ArtifactRole::output);
    EXPECT_EQ(artifact_role("x.diff.fits"), ArtifactRole::difference);
    EXPECT_EQ(artifact_role("x.PNG"), ArtifactRole::png);
    EXPECT_EQ(artifact_role("x.log"), ArtifactRole::other);
}

TEST(ReportModel, SpeedRatiosSameCaseAndMachineOnly) {
    test::ScratchDir dir;
    write_rows(dir / "s.json",
               {speed_row("psf", "aiapy-0.10.2", "f64", 10.0), speed_row("psf", "reference", "f64", 4.0), speed_row("psf", "cpu", "f32", 2.0),
                speed_row("psf", "cuda", "f32", 0.5, "other CPU")});
    auto d = load({(dir / "s.json").string()});
    auto sp = speedups(d);
    ASSERT_EQ(sp.size(), 4u);
    EXPECT_EQ(sp[0].row->row.backend, "aiapy-0.10.2");
    EXPECT_EQ(sp[2].row->row.backend, "cpu");
    EXPECT_DOUBLE_EQ(*sp[2].vs_aiapy, 5.0);
    EXPECT_DOUBLE_EQ(*sp[2].vs_reference, 2.0);
    EXPECT_FALSE(sp[3].vs_aiapy);  // measured on another machine
    auto bars = speedup_bars(d);
    ASSERT_EQ(bars.size(), 1u);
    EXPECT_EQ(bars[0].baseline, "aiapy");
    EXPECT_EQ(bars[0].bars.size(), 2u);  // reference and cpu; not aiapy itself
    auto md = render_markdown(d);
    EXPECT_NE(md.find("5.0×"), std::string::npos);
    EXPECT_NE(md.find("baseline"), std::string::npos);
}

// aiaccel bench's rows: every aiapy flavour is its own row; the ratio is against the fastest aiapy
// without an accelerator (0.12.1's numpy path), named in its own column; floors give "× floor".
TEST(ReportModel, SpeedAgainstFastestPlainAiapyAndFloors) {
    test::ScratchDir dir;
    auto with = [](ResultRow r, std::string case_name, double threads) {
        r.case_name = std::move(case_name);
        r.extra = {{"threads", threads}, {"pixels_per_s", 4096.0 * 4096.0 / r.time_s}};
        return r;
    };
    write_rows(
        dir / "b.json",
        {speed_row("psf", "aiapy-0.10.2", "f64", 100.0), speed_row("psf", "aiapy-0.12.1", "f64", 30.0),
         speed_row("psf", "aiapy-0.12.1+jax", "f64", 10.0), with(speed_row("psf", "cpu", "f64", 0.2), "psf-171", 2),
         with(speed_row("deconvolve", "fftw-floor", "f32", 2.0), "derived-4096", 2),
         with(speed_row("deconvolve", "fftw-floor", "f32", 3.5), "derived-4096", 1),
         with(speed_row("deconvolve", "cpu", "f32", 2.4), "derived-4096", 2), with(speed_row("deconvolve", "cpu", "f32", 4.2), "derived-4096", 1)});
    auto d = load({(dir / "b.json").string()});
    auto sp = speedups(d);
    ASSERT_EQ(sp.size(), 8u);
    auto find = [&](const std::string& stage, const std::string& backend, double threads = 0) -> const Speedup& {
        for (const auto& s : sp)
            if (s.row->row.stage == stage && s.row->row.backend == backend && (threads == 0 || metric_value(s.row->row, "threads") == threads))
                return s;
        throw std::runtime_error("no row " + stage + " " + backend);
    };
    for (const char* b : {"aiapy-0.10.2", "aiapy-0.12.1", "aiapy-0.12.1+jax", "cpu"}) EXPECT_EQ(find("psf", b).aiapy_baseline, "aiapy-0.12.1") << b;
    EXPECT_DOUBLE_EQ(*find("psf", "cpu").vs_aiapy, 150.0);
    EXPECT_DOUBLE_EQ(*find("psf", "aiapy-0.12.1+jax").vs_aiapy, 3.0);  // faster, but accelerated: not the baseline
    EXPECT_DOUBLE_EQ(*find("psf", "aiapy-0.10.2").vs_aiapy, 0.3);
    EXPECT_FALSE(find("psf", "cpu").times_floor);  // no PSF floor
    EXPECT_DOUBLE_EQ(*find("deconvolve", "cpu", 2).times_floor, 1.2);
    EXPECT_DOUBLE_EQ(*find("deconvolve", "cpu", 1).times_floor, 1.2);  // against the 1-thread floor
    EXPECT_EQ(find("deconvolve", "cpu", 2).floor, "fftw-floor");
    EXPECT_FALSE(find("deconvolve", "fftw-floor", 2).times_floor);
    EXPECT_FALSE(find("deconvolve", "cpu", 2).vs_aiapy);  // no aiapy row for deconvolve here
    EXPECT_TRUE(is_accelerated_aiapy("aiapy-0.12.1+jax"));
    EXPECT_FALSE(is_accelerated_aiapy("aiapy-0.12.1"));
    EXPECT_TRUE(is_floor_backend("memcpy-floor"));

    auto bars = speedup_bars(d);
    ASSERT_EQ(bars.size(), 1u);  // deconvolve has neither aiapy nor reference rows
    EXPECT_EQ(bars[0].baseline, "aiapy");
    EXPECT_EQ(bars[0].baseline_backend, "aiapy-0.12.1");
    EXPECT_EQ(bars[0].bars.size(), 3u);  // 0.10.2, +jax and cpu; not the baseline itself

    auto tables = speed_tables(d);
    ASSERT_EQ(tables.size(), 2u);
    const auto& h = tables[0].header;
    const auto col = [&](const std::string& name) { return std::size_t(std::find(h.begin(), h.end(), name) - h.begin()); };
    ASSERT_LT(col("aiapy baseline"), h.size());
    ASSERT_LT(col("× floor"), h.size());
    ASSERT_LT(col("threads"), h.size());
    for (const auto& l : tables[0].lines) {
        EXPECT_EQ(l.cells[col("aiapy baseline")], "aiapy-0.12.1");
        if (l.cells[1] == "aiapy-0.12.1") { EXPECT_EQ(l.cells[col("speedup vs aiapy")], "baseline"); }
        if (l.cells[1] == "cpu") { EXPECT_EQ(l.cells[col("speedup vs aiapy")], "150×"); }
    }
    for (const auto& l : tables[1].lines) {
        if (l.cells[1] == "fftw-floor") { EXPECT_EQ(l.cells[col("× floor")], "floor"); }
        if (l.cells[1] == "cpu") { EXPECT_EQ(l.cells[col("× floor")], "1.20× fftw-floor"); }
    }
    auto md = render_markdown(d);
    EXPECT_NE(md.find("1.20× fftw-floor"), std::string::npos) << md;
    EXPECT_NE(md.find("aiapy baseline"), std::string::npos);
    auto html = render_html(d);
    EXPECT_NE(html.find("psf: speedup vs aiapy-0.12.1"), std::string::npos);
}

TEST(ReportModel, IterationSeriesFromDeconvolveRows) {
    test::ScratchDir dir;
    std::vector<ResultRow> rows;
    for (int it : {25, 1, 10}) {
        auto r = accuracy_row("deconvolve", "cpu", "f32", "derived-171-it" + std::to_string(it), Verdict::passed);
        r.metrics.max_abs_over_max = 1e-7 * it;
        r.extra.emplace_back("iterations", it);
        rows.push_back(r);
    }
    rows.push_back(accuracy_row("deconvolve", "cpu", "f32", "no-iterations", Verdict::passed));
    write_rows(dir / "r.json", rows);
    auto d = load({(dir / "r.json").string()});
    auto s = iteration_series(d);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_NE(s[0].name.find("derived-171"), std::string::npos);
    EXPECT_EQ(s[0].name.find("it25"), std::string::npos);
    ASSERT_EQ(s[0].points.size(), 3u);
    EXPECT_EQ(s[0].points[0].first, 1);
    EXPECT_EQ(s[0].points[2].first, 25);
    ASSERT_TRUE(s[0].bound);
    auto html = render_html(d);
    EXPECT_NE(html.find("Error vs Richardson–Lucy iteration"), std::string::npos);
    EXPECT_NE(html.find("<polyline"), std::string::npos);
}

TEST(ReportModel, IterationSeriesTakesEveryIterationOfARowThatCarriesThem) {
    test::ScratchDir dir;
    std::vector<ResultRow> rows;
    for (int it : {5, 3}) {  // it3 repeats it5's first three iterations: one point per iteration count
        auto r = accuracy_row("deconvolve", "cpu", "f64", "derived-171-it" + std::to_string(it), Verdict::passed);
        r.extra.emplace_back("iterations", it);
        for (int k = 1; k <= it; ++k) r.iteration_max_rel.push_back(1e-16 * k);
        r.metrics.max_abs_over_max = r.iteration_max_rel.back();
        rows.push_back(r);
    }
    write_rows(dir / "r.json", rows);
    auto s = iteration_series(load({(dir / "r.json").string()}));
    ASSERT_EQ(s.size(), 1u);
    ASSERT_EQ(s[0].points.size(), 5u);
    for (int k = 0; k < 5; ++k) EXPECT_EQ(s[0].points[std::size_t(k)], std::make_pair(double(k + 1), 1e-16 * (k + 1)));
    EXPECT_TRUE(s[0].bound);
}

// The first screen: one stage × (backend · precision) matrix with pass counts and the worst error as
// a fraction of its bound (the row's own bound and the tolerance table's), coloured; skipped cells say why.
TEST(ReportModel, AccuracyMatrixCountsAndWorstFractionOfBound) {
    test::ScratchDir dir;
    auto own = [](std::string backend, std::string precision, double err, Verdict v) {
        auto r = accuracy_row("stage-a", std::move(backend), std::move(precision), fmt::format("c{}", err), v);
        r.metrics.max_abs_over_max = err;  // the row's bound is 1e-5 on max|Δ|/max; "stage-a" has no table rows
        return r;
    };
    auto deconv = accuracy_row("deconvolve", "cpu", "f32", "derived", Verdict::passed);
    deconv.metrics.max_abs_over_max = 1e-6;  // table: ≤ 5e-6 (20%); the row's own bound 1e-5 (10%)
    deconv.metrics.rel_l2 = 1e-7;  // table: ≤ 2e-6 (5%)
    auto skipped = accuracy_row("deconvolve", "cuda", "f32", "derived", Verdict::skipped);
    skipped.skip_reason = "cuda: built, but no device (driver too old)";
    write_rows(dir / "m.json",
               {own("cpu", "f32", 5e-8, Verdict::passed), own("cpu", "f32", 3e-6, Verdict::passed), own("cpu", "f64", 0, Verdict::passed),
                own("reference", "f64", 2e-5, Verdict::failed), deconv, skipped, speed_row("psf", "cpu", "f32", 1.0)});
    auto d = load({(dir / "m.json").string()});
    const Matrix m = accuracy_matrix(d);
    ASSERT_EQ(m.stages, (std::vector<std::string>{"deconvolve", "stage-a"}));  // known stages first, speed rows ignored
    ASSERT_EQ(m.columns.size(), 4u);
    EXPECT_EQ(m.columns[0], std::make_pair(std::string("reference"), std::string("f64")));
    EXPECT_EQ(m.columns[1], std::make_pair(std::string("cpu"), std::string("f64")));
    EXPECT_EQ(m.columns[2], std::make_pair(std::string("cpu"), std::string("f32")));
    EXPECT_EQ(m.columns[3], std::make_pair(std::string("cuda"), std::string("f32")));

    const MatrixCell& cpu32 = m.cells[1][2];
    EXPECT_EQ(cpu32.rows, 2u);
    EXPECT_EQ(matrix_count_text(cpu32), "2/2 passed");
    ASSERT_TRUE(cpu32.worst);
    EXPECT_NEAR(cpu32.worst->fraction, 0.3, 1e-12);
    EXPECT_EQ(cpu32.worst->metric, "max|Δ|/max");
    EXPECT_EQ(matrix_detail_text(cpu32), "≤ 30% of bound");
    EXPECT_EQ(matrix_css(cpu32), "mid");

    EXPECT_EQ(matrix_detail_text(m.cells[1][1]), "0 error (exact)");
    EXPECT_EQ(matrix_css(m.cells[1][1]), "far");
    EXPECT_EQ(matrix_count_text(m.cells[1][0]), "1 FAILED of 1");
    EXPECT_EQ(matrix_css(m.cells[1][0]), "failed");
    EXPECT_EQ(fraction_text(2.0), "2× bound");
    EXPECT_EQ(matrix_css(m.cells[1][3]), "none");
    EXPECT_EQ(matrix_count_text(m.cells[1][3]), "—");

    const MatrixCell& dec = m.cells[0][2];  // judged by this build's table: max|Δ|/max 1e-6 of 5e-6
    ASSERT_TRUE(dec.worst);
    EXPECT_NEAR(dec.worst->fraction, 0.2, 1e-12);
    EXPECT_EQ(matrix_css(dec), "mid");
    EXPECT_EQ(matrix_css(m.cells[0][3]), "skipped");
    EXPECT_EQ(matrix_count_text(m.cells[0][3]), "1 skipped");
    EXPECT_EQ(matrix_detail_text(m.cells[0][3]), "built, but no device");

    // summary.md opens with the same matrix; index.html puts it (and only it and the speed chart)
    // before the collapsible per-stage details.
    const auto md = render_markdown(d);
    ASSERT_NE(md.find("## Accuracy at a glance"), std::string::npos) << md;
    EXPECT_LT(md.find("## Accuracy at a glance"), md.find("## Accuracy\n"));
    EXPECT_NE(md.find("| stage | reference f64 | cpu f64 | cpu f32 | cuda f32 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| **stage-a** | ❌ 1 FAILED of 1"), std::string::npos) << md;
    EXPECT_NE(md.find("✅ 2/2 passed · ≤ 30% of bound"), std::string::npos) << md;
    const auto html = render_html(d);
    const auto matrix_at = html.find("<table class=\"matrix\">");
    ASSERT_NE(matrix_at, std::string::npos);
    EXPECT_LT(matrix_at, html.find("<details class=\"stage\""));
    EXPECT_NE(html.find("<td class=\"cell mid\""), std::string::npos);
    EXPECT_NE(html.find("<td class=\"cell failed\""), std::string::npos);
    EXPECT_EQ(count(html, "<details class=\"stage\""), 3u);  // deconvolve, stage-a (accuracy), psf (speed)
    EXPECT_NE(html.find("<details class=\"stage\" id=\"stage-stage-a\" open>"), std::string::npos);  // it holds a failure
    EXPECT_NE(html.find("<details class=\"stage\" id=\"stage-deconvolve\">"), std::string::npos);
}

// Each bound's reason once per table, as a numbered note the bound cells point to.
TEST(ReportModel, BoundReasonsOncePerTable) {
    test::ScratchDir dir;
    std::vector<ResultRow> rows;
    for (int i = 0; i < 5; ++i) rows.push_back(accuracy_row("psf", "cpu", "f32", "psf-" + std::to_string(i), Verdict::passed));
    auto other = accuracy_row("psf", "cpu", "f64", "psf-x", Verdict::passed);
    other.bound_reason = "float64 FFT round-off";
    other.target = "AVX2";  // the Highway target that ran: written to the rows file, shown in its own column
    rows.push_back(other);
    auto skipped = accuracy_row("psf", "cuda", "f32", "psf-0", Verdict::skipped);
    skipped.bound_metric.clear(), skipped.bound = 0, skipped.bound_reason.clear();
    rows.push_back(skipped);
    write_rows(dir / "r.json", rows);
    auto d = load({(dir / "r.json").string()});
    const auto tables = accuracy_tables(d);
    ASSERT_EQ(tables.size(), 1u);
    const auto& t = tables[0];
    EXPECT_EQ(std::find(t.header.begin(), t.header.end(), "why this bound"), t.header.end());
    ASSERT_EQ(t.footnotes, (std::vector<std::string>{"float64 FFT round-off", "float32 FFT round-off"}));  // f64 rows sort first
    const auto col = std::size_t(std::find(t.header.begin(), t.header.end(), "bound") - t.header.begin());
    ASSERT_LT(col, t.header.size());
    EXPECT_EQ(t.lines[0].cells[col], "≤ 1.00e-05 on max|Δ|/max [1]");
    EXPECT_EQ(t.lines[1].cells[col], "≤ 1.00e-05 on max|Δ|/max [2]");
    EXPECT_EQ(t.lines.back().cells[col], "—");
    const auto target_col = std::size_t(std::find(t.header.begin(), t.header.end(), "target") - t.header.begin());
    ASSERT_LT(target_col, t.header.size());
    EXPECT_EQ(t.lines[0].cells[target_col], "AVX2");
    EXPECT_EQ(t.lines.back().cells[target_col], "none");
    const auto html = render_html(d);
    EXPECT_EQ(count(html, "float32 FFT round-off"), 1u);
    EXPECT_NE(html.find("<ol class=\"reasons\">"), std::string::npos);
    const auto md = render_markdown(d);
    EXPECT_EQ(count(md, "float32 FFT round-off"), 1u);
    EXPECT_NE(md.find("[2] float32 FFT round-off"), std::string::npos) << md;
}

// The first screen's speedup chart: aiaccel backends only, the fastest thread count per stage ·
// backend · precision, against the stage's aiapy baseline, named in the title.
TEST(ReportModel, HeadlineSpeedBarsAgainstAiapy) {
    test::ScratchDir dir;
    auto thr = [](ResultRow r, double threads) {
        r.extra = {{"threads", threads}};
        return r;
    };
    write_rows(dir / "b.json",
               {speed_row("psf", "aiapy-0.12.1", "f64", 30.0), speed_row("psf", "aiapy-0.12.1+jax", "f64", 10.0),
                speed_row("psf", "reference", "f64", 6.0), thr(speed_row("psf", "cpu", "f64", 0.6), 1), thr(speed_row("psf", "cpu", "f64", 0.3), 2),
                speed_row("prep", "aiapy-0.10.2", "f64", 4.0), speed_row("prep", "cpu", "f64", 1.0), speed_row("register", "cpu", "f64", 1.0)});
    auto d = load({(dir / "b.json").string()});
    const auto hb = headline_speed_bars(d);
    ASSERT_EQ(hb.bars.size(), 3u);  // psf reference, psf cpu (2 threads), prep cpu; no aiapy, no register (no aiapy row)
    EXPECT_EQ(hb.bars[0].label, "psf · reference f64");
    EXPECT_DOUBLE_EQ(hb.bars[0].value, 5.0);
    EXPECT_EQ(hb.bars[1].label, "psf · cpu f64");
    EXPECT_DOUBLE_EQ(hb.bars[1].value, 100.0);
    EXPECT_NE(hb.bars[1].tooltip.find("2 threads"), std::string::npos) << hb.bars[1].tooltip;
    EXPECT_EQ(hb.bars[2].label, "prep · cpu f64");
    EXPECT_EQ(hb.title, "speedup vs aiapy-0.12.1 (prep: aiapy-0.10.2)");
    const auto html = render_html(d);
    EXPECT_LT(html.find("speedup vs aiapy-0.12.1 (prep: aiapy-0.10.2)"), html.find("<details class=\"stage\""));
}

TEST(ReportMarkdown, HeadlineTablesAndReproForFailures) {
    test::ScratchDir dir;
    auto failed = accuracy_row("register", "cuda", "f32", "cutout-171", Verdict::failed);
    failed.metrics.max_abs_over_max = 0.21;
    failed.repro = "aiaccel validate --stage register --backend cuda --precision f32 --case cutout-171";
    auto skipped = accuracy_row("psf", "cuda", "f32", "psf-171", Verdict::skipped);
    skipped.skip_reason = "cuda: built, but no device";
    write_rows(dir / "a.json", {accuracy_row("psf", "cpu", "f32", "psf-171", Verdict::passed), failed}, true);
    write_rows(dir / "b.json", {skipped});
    auto d = load({(dir / "a.json").string(), (dir / "b.json").string()});
    EXPECT_EQ(d.rows.size(), 3u);
    auto md = render_markdown(d);
    EXPECT_NE(md.find("❌ 1 PASSED, 1 FAILED, 1 SKIPPED"), std::string::npos) << md;
    EXPECT_NE(md.find("  " + failed.repro + "\n"), std::string::npos);
    EXPECT_NE(md.find("max|Δ|/max 2.10e-01 > bound 1.00e-05"), std::string::npos);
    EXPECT_NE(md.find("SKIPPED: cuda: built, but no device"), std::string::npos);
    EXPECT_NE(md.find("### psf"), std::string::npos);
    EXPECT_NE(md.find("### register"), std::string::npos);
    EXPECT_NE(md.find("test CPU, 2 threads"), std::string::npos);
    EXPECT_LT(md.find("### psf"), md.find("### register"));  // pipeline order, not alphabetical

    auto all_pass = load({(dir / "b.json").string()});
    EXPECT_EQ(headline(summarize(all_pass)), "✅ 0 PASSED, 0 FAILED, 1 SKIPPED");
}

TEST(ReportHtml, SelfContainedWithHighlightsAndReasons) {
    test::ScratchDir dir;
    auto failed = accuracy_row("deconvolve", "cpu", "f32", "derived-171-it25", Verdict::failed);
    failed.repro = "aiaccel validate --case derived-171-it25 <&>";
    auto skipped = accuracy_row("psf", "cuda", "f32", "psf-171", Verdict::skipped);
    skipped.skip_reason = "cuda: built, but no device";
    write_rows(dir / "a.json", {failed, skipped, speed_row("psf", "aiapy-0.10.2", "f64", 3), speed_row("psf", "cpu", "f32", 1)});
    auto d = load({(dir / "a.json").string()});
    auto html = render_html(d);
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_NE(html.find("<tr class=\"failed\">"), std::string::npos);
    EXPECT_NE(html.find("<tr class=\"skipped\">"), std::string::npos);
    EXPECT_NE(html.find("cuda: built, but no device"), std::string::npos);
    EXPECT_NE(html.find("aiaccel validate --case derived-171-it25 &lt;&amp;&gt;"), std::string::npos);  // escaped
    EXPECT_NE(html.find("psf: speedup vs aiapy"), std::string::npos);
    EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(ReportHtml, ArtifactsBecomeEmbeddedImagesAndMissingOnesANote) {
    test::ScratchDir dir;
    fs::create_directories(dir / "dumps");
    FitsImage real = read_fits(test::real_file("aia_171_level1.fits").string());
    Image<double> out = real.data;
    for (std::size_t i = 0; i < out.size(); i += 97) out.data()[i] *= 1 + 1e-6;
    out(5, 5) = NAN;
    write_fits(dir / "dumps" / "c.input.fits", real.data, {});
    write_fits(dir / "dumps" / "c.reference.fits", real.data, {});
    write_fits(dir / "dumps" / "c.output.fits", out, {});
    std::ofstream(dir / "dumps" / "broken.ref.fits") << "not FITS";
    auto ok = accuracy_row("deconvolve", "cpu", "f32", "aia171", Verdict::passed);
    ok.artifacts = {"dumps/c.input.fits", "dumps/c.reference.fits", "dumps/c.output.fits"};
    auto missing = accuracy_row("register", "cpu", "f64", "cutout", Verdict::failed);
    missing.artifacts = {"dumps/nowhere.diff.fits", "dumps/broken.ref.fits"};
    write_rows(dir / "rows.json", {ok, missing});

    auto d = load({(dir / "rows.json").string()});
    auto html = render_html(d);
    EXPECT_EQ(count(html, "<img src=\"data:image/png;base64,"), 4u);  // input, reference, output, difference
    EXPECT_NE(html.find("log10( |Δ| / max|reference| )"), std::string::npos);
    EXPECT_NE(html.find("1 NaN mismatches"), std::string::npos);
    EXPECT_NE(html.find("artifact dumps/nowhere.diff.fits not found"), std::string::npos);
    EXPECT_NE(html.find("artifact dumps/broken.ref.fits could not be read"), std::string::npos);
    EXPECT_EQ(html.find("http"), std::string::npos);
    auto md = render_markdown(d);
    EXPECT_NE(md.find("artifact dumps/nowhere.diff.fits of register · cpu · f64 · cutout not found"), std::string::npos);

    // report.json rewrites artifact paths relative to the output folder, so it renders again.
    const fs::path out_dir = dir / "report";
    write_report(d, out_dir);
    auto again = load({(out_dir / "report.json").string()});
    ASSERT_EQ(again.rows.size(), 2u);
    EXPECT_EQ(again.rows[0].row.artifacts[0], "../dumps/c.input.fits");
    EXPECT_EQ(count(render_html(again), "<img src=\"data:image/png;base64,"), 4u);
}

TEST(ReportWrite, ZeroRowsAndAtomicFiles) {
    test::ScratchDir dir;
    std::ofstream(dir / "empty.json") << "[]";
    auto d = load({(dir / "empty.json").string()});
    EXPECT_TRUE(d.rows.empty());
    EXPECT_EQ(headline(summarize(d)), "⚪ no result rows");
    auto paths = write_report(d, dir / "out");
    ASSERT_EQ(paths.size(), 3u);
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(dir / "out")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"index.html", "report.json", "summary.md"}));  // no temp files left
    auto j = nlohmann::json::parse(slurp(dir / "out" / "report.json"));
    EXPECT_EQ(j["summary"]["total"], 0);
    EXPECT_EQ(j["summary"]["verdicts"]["FAILED"], 0);
    EXPECT_FALSE(j["summary"]["aiaccel_version"].get<std::string>().empty());
    EXPECT_TRUE(j["rows"].empty());
    EXPECT_NE(slurp(dir / "out" / "summary.md").find("no result rows"), std::string::npos);
    EXPECT_NE(slurp(dir / "out" / "index.html").find("no result rows"), std::string::npos);
}

TEST(ReportLoad, BadInputsNameTheFile) {
    test::ScratchDir dir;
    std::ofstream(dir / "broken.json") << "[{\"stage\": ";
    std::ofstream(dir / "scalar.json") << "42";
    std::ofstream(dir / "norows.json") << "{\"results\": []}";
    std::ofstream(dir / "verdict.json") << R"([{"stage": "psf", "metrics": {}, "verdict": "OK"}])";
    std::ofstream(dir / "nometrics.json") << R"([{"stage": "psf", "verdict": "PASSED"}])";
    for (const auto& [name, expect] :
         std::vector<std::pair<std::string, std::string>>{{"broken.json", "not valid JSON"},
                                                          {"scalar.json", "expected an array of result rows"},
                                                          {"norows.json", "without a \"rows\" array"},
                                                          {"verdict.json", "row 0 is not a result row: verdict \"OK\""},
                                                          {"nometrics.json", "row 0 is not a result row: no \"metrics\""},
                                                          {"missing.json", "no such file"}}) {
        const std::string path = (dir / name).string();
        try {
            load_rows({path});
            ADD_FAILURE() << name << " was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), 2) << name;
            EXPECT_NE(std::string(e.what()).find(path + ": "), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        }
    }
}

TEST(ReportCli, BadInputExitsTwoWithOneLineNamingTheFile) {
    test::ScratchDir dir;
    std::ofstream(dir / "bad.json") << "{ not json";
    auto r = test::run_aiaccel({"report", (dir / "bad.json").string(), "-o", (dir / "out").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find((dir / "bad.json").string()), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "index.html"));
}

TEST(ReportCli, WritesTheThreeFiles) {
    test::ScratchDir dir;
    auto skipped = accuracy_row("psf", "cuda", "f32", "psf-171", Verdict::skipped);
    skipped.skip_reason = "cuda: built, but no device";
    write_rows(dir / "rows.json", {accuracy_row("psf", "cpu", "f32", "psf-171", Verdict::passed), skipped});
    auto r = test::run_aiaccel({"report", (dir / "rows.json").string(), "-o", (dir / "out").string(), "--title", "CLI test"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("✅ 1 PASSED, 0 FAILED, 1 SKIPPED"), std::string::npos) << r.out;
    for (auto f : {"report.json", "summary.md", "index.html"}) EXPECT_TRUE(fs::exists(dir / "out" / f)) << f;
    EXPECT_NE(slurp(dir / "out" / "summary.md").find("# CLI test"), std::string::npos);
    EXPECT_EQ(test::run_aiaccel({"report", "-o", (dir / "out").string()}).exit_code, 2);  // no input
}

// `aiaccel bench`'s rows load and render: the floors, and SKIPPED aiapy rows that say how to install
// the oracle venvs when they are absent. Timings are not checked (shared machine).
TEST(BenchCli, FloorsAndAbsentAiapyGiveSpeedRowsTheReportRenders) {
    test::ScratchDir dir;
    ::setenv("AIACCEL_FFTW_PLANNER", "estimate", 1);  // no timed planning in a test
    // --fft fftw: the FFT floor is the chosen provider's (auto may pick mkl in builds with it).
    const std::string oracle = (dir / "no-oracle").string(), out = (dir / "b").string();
    std::vector<std::string> args{"bench", "--stages", "floors", "--precision", "f32", "--threads", "1", "--fft", "fftw", "--repetitions", "1"};
    args.insert(args.end(), {"--baseline-aiapy", "--aiapy-versions", "0.12.1", "--aiapy-stages", "register", "--oracle", oracle, "--out", out});
    auto r = test::run_aiaccel(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("tools/oracle/setup all"), std::string::npos) << r.err;
    auto d = load({(dir / "b" / "rows.json").string()});
    std::size_t floors = 0, aiapy_skipped = 0;
    for (const auto& row : d.rows) {
        EXPECT_EQ(row.row.kind, "speed");
        if (is_floor_backend(row.row.backend)) {
            ++floors;
            EXPECT_EQ(row.row.verdict, Verdict::passed);
            EXPECT_GT(row.row.time_s, 0);
            EXPECT_GT(row.row.peak_rss_mib, 0);
            EXPECT_EQ(metric_value(row.row, "threads"), 1.0);
        }
        if (row.row.backend == "aiapy-0.12.1") {
            ++aiapy_skipped;
            EXPECT_EQ(row.row.verdict, Verdict::skipped);
            EXPECT_NE(row.row.skip_reason.find("tools/oracle/setup all"), std::string::npos);
        }
    }
    EXPECT_EQ(floors, 3u);  // fftw-floor derived-4096; memcpy-floor derived-4096 and real-2048
    EXPECT_EQ(aiapy_skipped, 2u);  // register on derived-4096 and real-2048
    auto md = render_markdown(d);
    EXPECT_NE(md.find("| derived-4096 | fftw-floor | f32 | none | 1 | fftw 3."), std::string::npos) << md;

    auto bad = test::run_aiaccel({"bench", "--stages", "nope", "--out", (dir / "c").string()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("--stages nope"), std::string::npos) << bad.err;
}
