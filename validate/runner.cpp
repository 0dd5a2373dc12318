// The case runner (see runner.hpp).
#include "validate/runner.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fstream>

#include "core/channels.hpp"
#include "core/fits_io.hpp"
#include "core/frame_pool.hpp"
#include "validate/backend_registry.hpp"
#include "validate/golden_calibrate.hpp"
#include "validate/golden_checks.hpp"

namespace aiaccel::validate {
namespace fs = std::filesystem;

namespace {

// Wall time and peak resident memory of one row. The kernel's high-water mark (VmHWM) is reset at
// the start (/proc/self/clear_refs "5", Linux ≥ 4.0), after emptying the frame pool (core/frame_pool),
// so the peak is this row's; where that is not possible it is the process's peak so far (getrusage ru_maxrss).
class Meter {
public:
    Meter() {
        frame_pool_release();
        std::ofstream("/proc/self/clear_refs") << "5";
        t0_ = std::chrono::steady_clock::now();
    }
    void stop(ResultRow& r) const {
        r.time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
        std::ifstream st("/proc/self/status");
        for (std::string line; std::getline(st, line);)
            if (line.rfind("VmHWM:", 0) == 0) {
                r.peak_rss_mib = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
                return;
            }
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        r.peak_rss_mib = double(u.ru_maxrss) / 1024.0;
    }

private:
    std::chrono::steady_clock::time_point t0_;
};

std::string slug(const std::string& s) {
    std::string out;
    for (char ch : s) out += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.') ? ch : '_';
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

double nanmin(const Image<double>& a) {
    double m = NAN;
    for (double v : a.pixels())
        if (!std::isnan(v) && !(v >= m)) m = v;
    return m;
}

constexpr std::size_t kMaxProblemNotes = 5;

// The reference's output, or its error when it refused (only register's refusals are results).
const AiaImage& need(const ReferenceOutput& r) {
    if (!r.image) throw *r.refusal;
    return *r.image;
}

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
    : store_(store), opt_(std::move(opt)), runs_(store, std::move(cache), opt_.log), machine_(MachineInfo::here()) {
    if (opt_.registry.empty()) opt_.registry = all_backends();
}
Runner::~Runner() = default;

std::vector<ResultRow> Runner::run(const std::vector<const Case*>& cases, const std::function<void(const ResultRow&)>& on_row) {
    Ctx ctx{{}, &on_row};
    for (const Case* c : cases) {
        if (!contains(opt_.stages, c->stage)) continue;
        for (const auto& backend : opt_.backends) {
            if (backend == "reference") {
                if (contains(opt_.precisions, "f64")) reference_rows(*c, ctx);  // the reference is float64 by definition
                continue;
            }
            if (c->stage == "prep") continue;  // calibration is header arithmetic: no fast backend implements it
            for (const auto& p : opt_.precisions) fast_rows(*c, backend, p, ctx);
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
    r.repro = fmt::format("{} --cases {} --stages {} --backends {} --precision {}", opt_.repro_prefix, c.name, c.stage, backend, precision);
    if (c.stage == "deconvolve") r.extra.emplace_back("iterations", c.iterations);
    return r;
}

// Runs `make` for one row; an input that is not there, or a stage the backend does not provide, gives
// SKIPPED with the reason; any other error FAILED.
template <class F>
static ResultRow guarded(ResultRow skeleton, F&& make) {
    try {
        return make();
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::unreadable) {
            skeleton.verdict = Verdict::skipped;
            skeleton.skip_reason = std::string("input not available: ") + e.what();
        } else if (e.kind() == ErrorKind::not_implemented) {
            skeleton.verdict = Verdict::skipped;
            skeleton.skip_reason = e.what();
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

void Runner::reference_rows(const Case& c, Ctx& ctx) {
    if (c.is_synthetic()) {
        const BackendEntry* e = entry("reference");
        std::unique_ptr<Backend> be = e ? e->make() : nullptr;
        if (!be) throw Error(ErrorKind::internal, "the backend list has no reference backend");
        ctx.emit(guarded(new_row(c, "reference", "f64", "exact"), [&] { return exact_row(c, *be, "reference", "f64"); }));
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
        ctx.emit(guarded(skel, [&] { return c.stage == "prep" ? prep_row(c, v) : golden_row(c, v); }));
    }
}

ResultRow Runner::golden_row(const Case& c, const std::string& v) {
    ResultRow row = new_row(c, "reference", "f64", "aiapy-" + v);
    auto g = store_.item(v, c.golden);
    if (!g) {
        row.skip_reason = fmt::format("no aiapy {} golden {} ({})", v, c.golden, store_.item_path(v, c.golden).string());
        return row;
    }
    const AiapyVersion version = *parse_aiapy_version(v);
    Meter meter;
    ReferenceOutput ref;
    GoldenComparison gc;
    if (c.stage == "psf") {
        ref = runs_.psf(c.channel, c.preflight, version);
        gc = psf_vs_golden(need(ref).data, *g, store_);
    } else if (c.stage == "deconvolve") {
        row.input_sha256 = runs_.input_sha256(c);
        ref = runs_.deconvolve(c, c.psf_channel, c.iterations, version);
        gc = deconvolve_vs_golden(need(ref).data, *g, store_);
    } else {
        row.input_sha256 = runs_.input_sha256(c);
        ref = runs_.register_image(c);
        gc = register_vs_golden(runs_.input(c), ref.image.get(), ref.refusal ? &*ref.refusal : nullptr, *g, store_);
    }
    meter.stop(row);
    if (!gc.note.empty()) row.notes.push_back(gc.note);
    if (ref.image) row.notes.push_back(ref.describe());
    if (!gc.parts.empty()) {
        std::string parts;
        for (const auto& p : gc.parts) parts += fmt::format("{}{}: {}", parts.empty() ? "" : "; ", p.name, p.text);
        row.notes.push_back(parts);
    }
    finish(row, gc.measurement, Against::aiapy, gc.worst_part.empty() ? nullptr : &gc.ours, gc.worst_part.empty() ? nullptr : &gc.theirs);
    return row;
}

ResultRow Runner::prep_row(const Case& c, const std::string& v) {
    ResultRow row = new_row(c, "reference", "f64", "aiapy-" + v);
    if (!c.input.empty()) row.input_sha256 = runs_.input_sha256(c);
    Meter meter;
    CalibrationComparison all = calibration_comparison("prep", v);
    std::vector<std::string> missing;
    bool any = false;
    for (const auto& f : c.functions) {
        std::optional<CalibrationComparison> part;
        if (f == "update_pointing") part = update_pointing_vs_golden(store_, v, c.input);
        else if (f == "correct_degradation") part = correct_degradation_vs_golden(store_, v, c.input);
        else if (f == "exposure") part = exposure_vs_golden(store_, v, c.input);
        else if (f == "degradation") part = degradation_vs_golden(store_, v);
        else throw Error(ErrorKind::usage, fmt::format("case {}: unknown prep function '{}'", c.name, f));
        if (!part) {
            missing.push_back(f);
            continue;
        }
        any = true;
        row.notes.push_back(part->summary());
        merge(all, *part);
    }
    meter.stop(row);
    if (!any) {
        row.skip_reason = fmt::format("no aiapy {} goldens for {}", v, fmt::join(c.functions, ", "));
        row.notes.clear();
        return row;
    }
    if (!missing.empty()) row.notes.push_back(fmt::format("not checked (no aiapy {} golden): {}", v, fmt::join(missing, ", ")));
    finish(row, all.measurement, Against::aiapy, nullptr, nullptr);
    return row;
}

const SyntheticCase& Runner::synthetic(const Case& c) {
    auto& s = synthetic_[c.name];
    if (!s) s = std::make_unique<SyntheticCase>(make_synthetic(c));
    return *s;
}

ResultRow Runner::exact_row(const Case& c, Backend& be, const std::string& backend, const std::string& precision) {
    ResultRow row = new_row(c, backend, precision, "exact");
    const SyntheticCase& s = synthetic(c);
    StageOptions so;
    so.precision = *parse_precision(precision);
    Meter meter;
    Image<double> out = c.stage == "deconvolve" ? be.deconvolve(s.input.data, s.psf, {.iterations = c.iterations}, so)
                                                : be.register_image(s.input, {}, so).data;
    meter.stop(row);
    if (!c.description.empty()) row.notes.push_back(c.description);
    // NaN is the only invalid value here (the constant case fills with the constant itself).
    finish(row, measure_pair(c.stage, out, s.expected), Against::exact, &out, &s.expected, &s.input.data);
    return row;
}

void Runner::fast_rows(const Case& c, const std::string& backend, const std::string& precision, Ctx& ctx) {
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
    if (!be->supports(*parse_precision(precision))) {
        skel.skip_reason = fmt::format("{}: no {} implementation", backend, precision);
        ctx.emit(std::move(skel));
        return;
    }
    ResultRow row = guarded(skel, [&] {
        return c.is_synthetic() ? exact_row(c, *be, backend, precision) : versus_reference_row(c, *be, backend, precision);
    });
    if (opt_.after_row) opt_.after_row(row, *be);
    ctx.emit(std::move(row));
}

ResultRow Runner::versus_reference_row(const Case& c, Backend& be, const std::string& backend, const std::string& precision) {
    ResultRow row = new_row(c, backend, precision, "reference");
    StageOptions so;
    so.precision = *parse_precision(precision);
    const AiapyVersion v = kDefaultAiapyVersion;
    if (c.stage == "psf") {
        const ReferenceOutput ref = runs_.psf(c.channel, c.preflight, v);
        Meter meter;
        const Image<double> out = be.psf({.channel = c.channel, .use_preflight_core = c.preflight, .version = v}, so);
        meter.stop(row);
        row.notes.push_back(ref.describe());
        finish(row, measure_pair("psf", out, need(ref).data), Against::reference, &out, &ref.image->data);
        return row;
    }
    const AiaImage& in = runs_.input(c);
    row.input_sha256 = runs_.input_sha256(c);
    if (c.stage == "deconvolve") {
        int ch = c.psf_channel;
        if (ch == 0) {  // a discovered file: its own channel, on the full 4096² frame aiapy's PSF needs
            const Channel chan = in.aia().channel();
            if (!chan.has_psf() || in.data.rows() != 4096 || in.data.cols() != 4096) {
                row.skip_reason = fmt::format("deconvolve needs a 4096x4096 EUV image (aiapy's PSF is 4096²); this is {}x{} at {} Å",
                                              in.data.cols(), in.data.rows(), chan.wavelength);
                return row;
            }
            ch = chan.wavelength;
        }
        const ReferenceOutput psf = runs_.psf(ch, false, v);
        const ReferenceOutput ref = runs_.deconvolve(c, ch, c.iterations, v);
        Meter meter;
        const Image<double> out = be.deconvolve(in.data, need(psf).data, {.iterations = c.iterations}, so);
        meter.stop(row);
        row.notes.push_back(ref.describe());
        finish(row, measure_pair("deconvolve", out, need(ref).data), Against::reference, &out, &ref.image->data, &in.data);
        return row;
    }
    // register: the backend must refuse exactly what the reference refuses (no full disk).
    const ReferenceOutput ref = runs_.register_image(c);
    std::optional<AiaImage> out;
    std::optional<Error> refusal;
    Meter meter;
    try {
        out = be.register_image(in, {}, so);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::not_implemented) throw;  // a stage the backend lacks: SKIPPED, not a refusal
        refusal = e;
    }
    meter.stop(row);
    if (!ref.image || !out) {
        Measurement m;
        m.has_image = false;
        const bool both = !ref.image && !out;
        m.set("refusal_mismatch", both ? 0 : 1);
        row.notes.push_back(both ? "refused, as the reference" : !out ? "refused: " + std::string(refusal->what())
                                                                       : "the reference refuses this input: " + std::string(ref.refusal->what()));
        finish(row, m, Against::reference, nullptr, nullptr);
        return row;
    }
    Measurement m = measure_pair("register", out->data, ref.image->data, nanmin(in.data));
    m.set("dtype_mismatch", out->dtype == ref.image->dtype ? 0 : 1);
    row.notes.push_back(ref.describe());
    finish(row, m, Against::reference, &out->data, &ref.image->data, &in.data);
    return row;
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
        if (input && inputs_shown_.insert(row.case_name).second)
            row.artifacts.push_back(dump(row, "input", preview(*input, nullptr), "images"));
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
    h.set_string("AIACROLE", role, role == "output" ? "the row's output" : role == "reference" ? "what it is compared with"
                                 : role == "input" ? "the stage's input" : "output - reference");
    WriteOptions wo;
    wo.dtype = PixelType::f64;
    if (img.empty()) return rel;  // nothing to write (a window outside the output): report notes the absence
    write_fits(path, img, h, wo);
    return rel;
}

}  // namespace aiaccel::validate
