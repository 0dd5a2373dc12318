// The case runner (see runner.hpp).
#include "validate/runner.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fstream>

#include "core/channels.hpp"
#include "core/fits_io.hpp"
#include "core/frame_pool.hpp"
#include "validate/row_meter.hpp"

namespace aiaccel::validate {
namespace fs = std::filesystem;

namespace {

std::string slug(const std::string& s) {
    std::string out;
    for (char ch : s) out += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.') ? ch : '_';
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

constexpr std::size_t kMaxProblemNotes = 5;

}  // namespace

std::string result_text(const ResultRow& r) {
    if (r.verdict == Verdict::skipped) return r.skip_reason;
    if (r.bound_metric.empty()) return r.notes.empty() ? std::string() : r.notes.front();
    const Tolerance t{"", r.bound_metric, Against::any, "", "", r.bound, ""};
    const auto v = row_value(r, t.value_name());
    if (!v) return r.bound_metric;
    const bool regression = !r.notes.empty() && r.notes.front().rfind("regression vs ", 0) == 0;
    if (regression) return r.notes.front().substr(r.notes.front().find(": ") + 2);
    Check c{&t, *v, t.accepts(*v)};
    std::string text = c.text();
    if (text.rfind("max_abs_over_max ", 0) == 0) text.replace(0, 16, "max|Δ|/max");
    return text;
}

struct Runner::Ctx {
    std::vector<ResultRow> rows;
    const std::function<void(const ResultRow&)>* on_row;
    void emit(ResultRow r) {
        rows.push_back(std::move(r));
        if (*on_row) (*on_row)(rows.back());
    }
};

Runner::Runner(const GoldenStore& store, ReferenceCache cache, RunOptions opt)
    : store_(store), opt_(std::move(opt)), runs_(store, std::move(cache), opt_.log), machine_(MachineInfo::here()) {}
Runner::~Runner() = default;

std::vector<ResultRow> Runner::run(const std::vector<const Case*>& cases, const std::function<void(const ResultRow&)>& on_row) {
    Ctx ctx{{}, &on_row};
    for (const Case* c : cases) {
        if (!contains(opt_.stages, c->stage)) continue;
        const StageDriver& driver = stage_driver(c->stage);
        for (const auto& backend : opt_.backends) {
            if (backend == "reference") {  // the ground truth: compared with aiapy (or the exact answer)
                if (contains(opt_.precisions, "f64")) reference_rows(*c, driver, ctx);  // the reference is float64 by definition
                continue;
            }
            if (!driver.backend_stage()) continue;  // a stage no backend runs (prep's calibration: header arithmetic)
            for (const auto& p : opt_.precisions) fast_rows(*c, driver, backend, p, ctx);
        }
    }
    return std::move(ctx.rows);
}

const BackendEntry* Runner::entry(const std::string& name) const {
    for (const auto& e : opt_.registry)
        if (e.name == name) return &e;
    return nullptr;
}

ResultRow Runner::new_row(const Case& c, const std::string& backend, const std::string& precision, const std::string& against) {
    ResultRow r;
    r.stage = c.stage;
    r.backend = backend;
    r.precision = precision;
    r.case_name = c.name;
    r.against = against;
    r.machine = machine_;
    if (const auto p = parse_precision(precision)) {  // an f32 request computed in float64 uses the float64 transforms
        const auto stage = stage_driver(c.stage).backend_stage();
        const BackendEntry* e = entry(backend);
        if (e && e->fft) r.fft = e->fft(stage && e->caps.of(*stage).f32_computes_in_f64 ? Precision::f64 : *p);
    }
    r.repro = fmt::format("{} --cases {} --stages {} --backends {} --precision {}", opt_.repro_prefix, c.name, c.stage, backend, precision);
    stage_driver(c.stage).row_extra(c, r);
    return r;
}

// Runs `make` for one row; an input that is not there gives SKIPPED with the reason, any other error
// FAILED (what a backend cannot do is known before, from its capabilities).
template <class F>
static ResultRow guarded(ResultRow skeleton, F&& make) {
    try {
        return make();
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::unreadable) {
            skeleton.verdict = Verdict::skipped;
            skeleton.skip_reason = std::string("input not available: ") + e.what();
        } else {
            skeleton.verdict = Verdict::failed;
            skeleton.notes.push_back(std::string("error: ") + e.what());
        }
    } catch (const std::exception& e) {
        skeleton.verdict = Verdict::failed;
        skeleton.notes.push_back(std::string("internal error: ") + e.what());
    }
    return skeleton;
}

void Runner::reference_rows(const Case& c, const StageDriver& driver, Ctx& ctx) {
    if (c.is_synthetic()) {
        const BackendEntry* e = entry("reference");
        std::unique_ptr<Backend> be = e ? e->make() : nullptr;
        if (!be) throw Error(ErrorKind::internal, "the backend list has no reference backend");
        ctx.emit(guarded(new_row(c, "reference", "f64", "exact"), [&] { return exact_row(c, driver, *be, "reference", "f64"); }));
        return;
    }
    if (c.is_discovered()) {
        ResultRow r = new_row(c, "reference", "f64", "aiapy");
        r.skip_reason = "no aiapy golden for this file (found by discovery): it is the reference for the fast backends only";
        ctx.emit(std::move(r));
        return;
    }
    for (const auto& v : c.goldens) {
        ResultRow skel = new_row(c, "reference", "f64", "aiapy-" + v);
        ctx.emit(guarded(skel, [&] {
            ResultRow row = skel;
            StageContext sc = context();
            driver.golden_row(c, v, row, sc);
            return row;
        }));
    }
}

StageContext Runner::context() {
    return {store_, runs_,
            [this](ResultRow& row, const Measurement& m, Against against, const Image<double>* output, const Image<double>* ref,
                   const Image<double>* input) { finish(row, m, against, output, ref, input); }};
}

const SyntheticCase& Runner::synthetic(const Case& c) {
    auto& s = synthetic_[c.name];
    if (!s) s = std::make_unique<SyntheticCase>(make_synthetic(c));
    return *s;
}

ResultRow Runner::exact_row(const Case& c, const StageDriver& driver, Backend& be, const std::string& backend, const std::string& precision) {
    ResultRow row = new_row(c, backend, precision, "exact");
    const SyntheticCase& s = synthetic(c);
    StageOptions so;
    so.precision = *parse_precision(precision);
    RowMeter meter;
    Image<double> out = driver.run_exact(be, c, s, so);
    meter.stop(row);
    if (!c.description.empty()) row.notes.push_back(c.description);
    // NaN is the only invalid value here (the constant case fills with the constant itself).
    finish(row, measure_pair(c.stage, out, s.expected), Against::exact, &out, &s.expected, &s.input.data);
    return row;
}

void Runner::fast_rows(const Case& c, const StageDriver& driver, const std::string& backend, const std::string& precision, Ctx& ctx) {
    const std::string against = c.is_synthetic() ? "exact" : "reference";
    ResultRow skel = new_row(c, backend, precision, against);
    const BackendEntry* e = entry(backend);
    if (!e) throw Error(ErrorKind::usage, "unknown backend " + backend);
    const Availability a = e->probe();
    std::unique_ptr<Backend> be = a.available ? e->make() : nullptr;
    if (!a.available || !be) {
        skel.skip_reason = a.available ? backend + ": listed as available but could not be made" : a.reason;
        ctx.emit(std::move(skel));
        return;
    }
    // What the backend declares it cannot do is SKIPPED with that reason (validate runs aiapy's order 3).
    std::string why = e->caps.refusal(backend, *driver.backend_stage(), *parse_precision(precision));
    if (why.empty()) why = driver.case_refusal(c, backend, e->caps);
    if (!why.empty()) {
        skel.skip_reason = std::move(why);
        ctx.emit(std::move(skel));
        return;
    }
    ResultRow row = guarded(skel, [&] {
        if (c.is_synthetic()) return exact_row(c, driver, *be, backend, precision);
        ResultRow r = new_row(c, backend, precision, "reference");
        StageOptions so;
        so.precision = *parse_precision(precision);
        StageContext sc = context();
        sc.caps = &e->caps.of(*driver.backend_stage());
        driver.versus_reference(c, *be, r, so, sc);
        return r;
    });
    row.target = be->target(*driver.backend_stage());
    if (opt_.after_row) opt_.after_row(row, *be);
    ctx.emit(std::move(row));
}

void Runner::finish(ResultRow& row, const Measurement& m, Against against, const Image<double>* output, const Image<double>* ref,
                    const Image<double>* input) {
    row.metrics = m.metrics;
    if (!m.has_image) row.metrics.shape_ok = true;  // nothing pixel-shaped was compared: no shape to mismatch
    for (const auto& [k, v] : m.extra) {
        bool replaced = false;
        for (auto& [rk, rv] : row.extra)
            if (rk == k) rv = v, replaced = true;
        if (!replaced) row.extra.emplace_back(k, v);
    }
    const auto custom = opt_.bounds ? opt_.bounds(row, against) : std::nullopt;
    const Judgement j = custom ? judge(m, *custom) : judge(m, row.stage, against, row.backend, row.precision);
    row.verdict = j.verdict;
    if (const Check* c = j.shown()) {
        row.bound_metric = std::string(c->tolerance->metric);
        row.bound = c->tolerance->bound;
        row.bound_reason = std::string(c->tolerance->reason);
    }
    if (!j.note.empty()) row.notes.insert(row.notes.begin(), j.note);
    const auto failed = j.failed_texts();
    if (!failed.empty()) row.notes.insert(row.notes.begin(), "out of bounds: " + fmt::format("{}", fmt::join(failed, ", ")));
    for (std::size_t i = 0; i < m.problems.size() && i < kMaxProblemNotes; ++i) row.notes.push_back(m.problems[i]);
    if (m.problems.size() > kMaxProblemNotes) row.notes.push_back(fmt::format("... and {} more problems", m.problems.size() - kMaxProblemNotes));
    if (opt_.baseline && row.verdict != Verdict::skipped) {
        auto reg = opt_.baseline->check(row, j);
        if (!reg) {
            row.notes.push_back("not in the baseline " + opt_.baseline->source());
        } else if (!reg->empty()) {
            row.verdict = Verdict::failed;
            const auto& first = reg->front();
            for (const auto* t : tolerances_for(row.stage, against, row.backend, row.precision))
                if (t->metric == first.metric) row.bound_reason = std::string(t->reason);
            row.bound_metric = first.metric;
            row.bound = first.baseline * kRegressionGrowth;
            for (auto it = reg->rbegin(); it != reg->rend(); ++it)
                row.notes.insert(row.notes.begin(), "regression vs " + opt_.baseline->source() + ": " + it->text());
        }
    }
    if (row.verdict == Verdict::failed && output && ref) {
        row.artifacts.push_back(dump(row, "output", *output));
        row.artifacts.push_back(dump(row, "reference", *ref));
        if (output->rows() == ref->rows() && output->cols() == ref->cols()) {
            Image<double> d(ref->rows(), ref->cols());
            for (std::size_t i = 0; i < d.size(); ++i) d.data()[i] = output->data()[i] - ref->data()[i];
            row.artifacts.push_back(dump(row, "diff", d));
        }
    } else if (opt_.preview_images && output && ref && output->rows() == ref->rows() && output->cols() == ref->cols()) {
        // The input once per case (its first compared row), so the report does not repeat it per backend.
        if (input && inputs_shown_.insert(row.case_name).second) row.artifacts.push_back(dump(row, "input", preview(*input, nullptr), "images"));
        row.artifacts.push_back(dump(row, "output", preview(*output, nullptr), "images"));
        row.artifacts.push_back(dump(row, "reference", preview(*ref, nullptr), "images"));
        row.artifacts.push_back(dump(row, "diff", preview(*output, ref), "images"));
    }
}

// A ≤256-px preview: the block mean of `a`, or with `ref` the block max of |a − ref| (so a single bad
// pixel stays visible). NaN pixels are skipped; an all-NaN block stays NaN.
Image<double> Runner::preview(const Image<double>& a, const Image<double>* ref) {
    const std::size_t f = std::max<std::size_t>(1, (std::max(a.rows(), a.cols()) + 255) / 256);
    Image<double> p((a.rows() + f - 1) / f, (a.cols() + f - 1) / f, std::nan(""));
    for (std::size_t bi = 0; bi < p.rows(); ++bi)
        for (std::size_t bj = 0; bj < p.cols(); ++bj) {
            double acc = 0;
            std::size_t n = 0;
            for (std::size_t i = bi * f; i < std::min(a.rows(), (bi + 1) * f); ++i)
                for (std::size_t j = bj * f; j < std::min(a.cols(), (bj + 1) * f); ++j) {
                    const double v = ref ? std::fabs(a(i, j) - (*ref)(i, j)) : a(i, j);
                    if (std::isnan(v)) continue;
                    acc = ref ? std::max(acc, v) : acc + v;
                    ++n;
                }
            if (n) p(bi, bj) = ref ? acc : acc / double(n);
        }
    return p;
}

std::string Runner::dump(const ResultRow& row, const std::string& role, const Image<double>& img, const std::string& folder) {
    const std::string rel = fmt::format("{}/{}-{}-{}-{}-vs-{}-{}.fits", folder, slug(row.stage), slug(row.backend), slug(row.precision),
                                        slug(row.case_name), slug(row.against), role);
    const fs::path path = opt_.out_dir / rel;
    fs::create_directories(path.parent_path());
    FitsHeader h;
    h.set_string("AIACSTAG", row.stage, "aiaccel validate: stage");
    h.set_string("AIACCASE", row.case_name, "aiaccel validate: case");
    h.set_string("AIACBACK", row.backend, "aiaccel validate: backend");
    h.set_string("AIACVS", row.against, "aiaccel validate: compared with");
    h.set_string("AIACROLE", role,
                 role == "output"          ? "the row's output"
                     : role == "reference" ? "what it is compared with"
                     : role == "input"     ? "the stage's input"
                                           : "output - reference");
    WriteOptions wo;
    wo.dtype = PixelType::f64;
    if (img.empty()) return rel;  // nothing to write (a window outside the output): report notes the absence
    write_fits(path, img, h, wo);
    return rel;
}

}  // namespace aiaccel::validate
