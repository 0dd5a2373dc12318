// The four stage drivers (see stage_driver.hpp): psf, deconvolve, register and prep (calibration).
#include "validate/stage_driver.hpp"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/channels.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "validate/candidate_backend.hpp"
#include "validate/golden_calibrate.hpp"
#include "validate/golden_checks.hpp"
#include "validate/iteration_errors.hpp"
#include "validate/row_meter.hpp"

namespace aiaccel::validate {
namespace {

double nanmin(const Image<double>& a) {
    double m = NAN;
    for (double v : a.pixels())
        if (!std::isnan(v) && !(v >= m)) m = v;
    return m;
}

// The reference's output, or its error when it refused (only register's refusals are results).
const AiaImage& need(const ReferenceOutput& r) {
    if (!r.image) throw *r.refusal;
    return *r.image;
}

// A backend that writes its input to a file for another program gets the input's header (candidate_backend.hpp).
void give_input_header(Backend& be, const FitsHeader& h) {
    if (auto* sink = dynamic_cast<InputHeaderSink*>(&be)) sink->next_input_header(h);
}

void require_input(const Case& c) {
    if (c.input.empty() && c.synthetic.empty()) throw std::runtime_error(fmt::format("case {}: needs an \"input\" or a \"synthetic\" kind", c.name));
}

// The reference vs one aiapy golden image item (psf, deconvolve, register): `compare` runs the
// reference (timed) and compares it with the golden.
template <class Compare>
void golden_image_row(const Case& c, const std::string& v, ResultRow& row, StageContext& ctx, Compare&& compare) {
    auto g = ctx.store.item(v, c.golden);
    if (!g) {
        row.skip_reason = fmt::format("no aiapy {} golden {} ({})", v, c.golden, ctx.store.item_path(v, c.golden).string());
        return;
    }
    const AiapyVersion version = *parse_aiapy_version(v);
    RowMeter meter;
    ReferenceOutput ref;
    const GoldenComparison gc = compare(*g, version, ref);
    meter.stop(row);
    if (!gc.note.empty()) row.notes.push_back(gc.note);
    if (ref.image) row.notes.push_back(ref.describe());
    if (!gc.parts.empty()) {
        std::string parts;
        for (const auto& p : gc.parts) parts += fmt::format("{}{}: {}", parts.empty() ? "" : "; ", p.name, p.text);
        row.notes.push_back(parts);
    }
    const bool shown = !gc.worst_part.empty();
    ctx.finish(row, gc.measurement, Against::aiapy, shown ? &gc.ours : nullptr, shown ? &gc.theirs : nullptr, nullptr);
}

// ---- psf ---------------------------------------------------------------------------------------

class PsfDriver final : public StageDriver {
public:
    std::string_view name() const override { return "psf"; }
    std::optional<Stage> backend_stage() const override { return Stage::psf; }
    std::string case_refusal(const Case& c, std::string_view backend, const Capabilities& caps) const override {
        return c.preflight && !caps.psf.preflight_core ? fmt::format("{}: no pre-flight core PSF", backend) : std::string();
    }
    void check_case(const Case& c) const override {
        if (c.channel == 0) throw std::runtime_error(fmt::format("case {}: psf needs \"channel\"", c.name));
    }
    void golden_row(const Case& c, const std::string& v, ResultRow& row, StageContext& ctx) const override {
        golden_image_row(c, v, row, ctx, [&](const nlohmann::json& g, AiapyVersion version, ReferenceOutput& ref) {
            ref = ctx.runs.psf(c.channel, c.preflight, version);
            return psf_vs_golden(need(ref).data, g, ctx.store);
        });
    }
    void versus_reference(const Case& c, Backend& be, ResultRow& row, const StageOptions& so, StageContext& ctx) const override {
        const AiapyVersion v = kDefaultAiapyVersion;
        const ReferenceOutput ref = ctx.runs.psf(c.channel, c.preflight, v);
        RowMeter meter;
        const Image<double> out = be.psf({.channel = c.channel, .use_preflight_core = c.preflight, .version = v}, so);
        meter.stop(row);
        row.notes.push_back(ref.describe());
        ctx.finish(row, measure_pair(name(), out, need(ref).data), Against::reference, &out, &ref.image->data, nullptr);
    }
    BenchSpec bench() const override { return {{"psf-171"}, "", false, false}; }
};

// ---- deconvolve --------------------------------------------------------------------------------

// The error after every iteration (iteration_errors.hpp, docs/validation.md §2.2) of a backend that
// reports its estimates: the series in the row, its worst value the bounded metric.
void measure_iterations(Measurement& m, ResultRow& row, Backend& be, const Image<double>& img, const Image<double>& psf, int iterations,
                        const StageOptions& so) {
    const std::vector<double>& e = row.iteration_max_rel = iteration_errors(be, img, psf, iterations, so);
    std::size_t worst = 0;
    for (std::size_t k = 1; k < e.size(); ++k)
        if (!std::isnan(e[worst]) && (std::isnan(e[k]) || e[k] > e[worst])) worst = k;
    m.set("iteration_max_rel", e[worst]);
    row.notes.push_back(
        fmt::format("max|Δ|/max after each of the {} iterations (run beside the reference): worst {:.3g} after iteration {}; "
                    "first {:.3g}, last {:.3g}",
                    e.size(), e[worst], worst + 1, e.front(), e.back()));
}

class DeconvolveDriver final : public StageDriver {
public:
    std::string_view name() const override { return "deconvolve"; }
    std::optional<Stage> backend_stage() const override { return Stage::deconvolve; }
    void check_case(const Case& c) const override {
        if (c.iterations <= 0) throw std::runtime_error(fmt::format("case {}: deconvolve needs \"iterations\" > 0", c.name));
        require_input(c);
    }
    void discovered_case(Case& c) const override { c.iterations = 25; }
    void row_extra(const Case& c, ResultRow& r) const override { r.extra.emplace_back("iterations", c.iterations); }
    void golden_row(const Case& c, const std::string& v, ResultRow& row, StageContext& ctx) const override {
        golden_image_row(c, v, row, ctx, [&](const nlohmann::json& g, AiapyVersion version, ReferenceOutput& ref) {
            row.input_sha256 = ctx.runs.input_sha256(c);
            ref = ctx.runs.deconvolve(c, c.psf_channel, c.iterations, version);
            return deconvolve_vs_golden(need(ref).data, g, ctx.store);
        });
    }
    SyntheticCase make_synthetic(const Case& c) const override { return synthetic_deconvolve(c); }
    Image<double> run_exact(Backend& be, const Case& c, const SyntheticCase& s, const StageOptions& so) const override {
        give_input_header(be, s.input.header);
        return be.deconvolve(s.input.data, s.psf, {.iterations = c.iterations}, so);
    }
    void versus_reference(const Case& c, Backend& be, ResultRow& row, const StageOptions& so, StageContext& ctx) const override {
        const AiapyVersion v = kDefaultAiapyVersion;
        const AiaImage& in = ctx.runs.input(c);
        row.input_sha256 = ctx.runs.input_sha256(c);
        int ch = c.psf_channel;
        if (ch == 0) {  // a discovered file: its own channel, on the full 4096² frame aiapy's PSF needs
            const Channel chan = in.aia().channel();
            if (!chan.has_psf() || in.data.rows() != 4096 || in.data.cols() != 4096) {
                row.skip_reason = fmt::format("deconvolve needs a 4096x4096 EUV image (aiapy's PSF is 4096²); this is {}x{} at {} Å", in.data.cols(),
                                              in.data.rows(), chan.wavelength);
                return;
            }
            ch = chan.wavelength;
        }
        const ReferenceOutput psf = ctx.runs.psf(ch, false, v);
        const ReferenceOutput ref = ctx.runs.deconvolve(c, ch, c.iterations, v);
        give_input_header(be, in.header);
        RowMeter meter;
        const Image<double> out = be.deconvolve(in.data, need(psf).data, {.iterations = c.iterations}, so);
        meter.stop(row);
        row.notes.push_back(ref.describe());
        Measurement m = measure_pair(name(), out, need(ref).data, std::nullopt, solar_disk(in));
        if (c.iterations > 1 && ctx.caps && ctx.caps->estimates)
            measure_iterations(m, row, be, in.data, need(psf).data, c.iterations, so);
        else if (c.iterations > 1)
            row.notes.push_back(fmt::format("per-iteration error not measured: {} reports only its final estimate", be.name()));
        ctx.finish(row, m, Against::reference, &out, &ref.image->data, &in.data);
    }
    BenchSpec bench() const override { return {{"derived-4096"}, "fftw-floor", true}; }
};

// ---- register ----------------------------------------------------------------------------------

class RegisterDriver final : public StageDriver {
public:
    std::string_view name() const override { return "register"; }
    std::optional<Stage> backend_stage() const override { return Stage::register_image; }
    void check_case(const Case& c) const override { require_input(c); }
    void golden_row(const Case& c, const std::string& v, ResultRow& row, StageContext& ctx) const override {
        golden_image_row(c, v, row, ctx, [&](const nlohmann::json& g, AiapyVersion, ReferenceOutput& ref) {
            row.input_sha256 = ctx.runs.input_sha256(c);
            ref = ctx.runs.register_image(c);
            return register_vs_golden(ctx.runs.input(c), ref.image.get(), ref.refusal ? &*ref.refusal : nullptr, g, ctx.store);
        });
    }
    SyntheticCase make_synthetic(const Case& c) const override { return synthetic_register(c); }
    Image<double> run_exact(Backend& be, const Case&, const SyntheticCase& s, const StageOptions& so) const override {
        return be.register_image(s.input, {}, so).data;
    }
    // The backend must refuse exactly what the reference refuses (no full disk).
    void versus_reference(const Case& c, Backend& be, ResultRow& row, const StageOptions& so, StageContext& ctx) const override {
        const AiaImage& in = ctx.runs.input(c);
        row.input_sha256 = ctx.runs.input_sha256(c);
        const ReferenceOutput ref = ctx.runs.register_image(c);
        std::optional<AiaImage> out;
        std::optional<Error> refusal;
        RowMeter meter;
        try {
            out = be.register_image(in, {}, so);
        } catch (const Error& e) { refusal = e; }
        meter.stop(row);
        if (!ref.image || !out) {
            Measurement m;
            m.has_image = false;
            const bool both = !ref.image && !out;
            m.set("refusal_mismatch", both ? 0 : 1);
            row.notes.push_back(both       ? "refused, as the reference"
                                    : !out ? "refused: " + std::string(refusal->what())
                                           : "the reference refuses this input: " + std::string(ref.refusal->what()));
            ctx.finish(row, m, Against::reference, nullptr, nullptr, nullptr);
            return;
        }
        Measurement m = measure_pair(name(), out->data, ref.image->data, nanmin(in.data), solar_disk(*ref.image));
        m.set("dtype_mismatch", out->dtype == ref.image->dtype ? 0 : 1);
        row.notes.push_back(ref.describe());
        ctx.finish(row, m, Against::reference, &out->data, &ref.image->data, &in.data);
    }
    BenchSpec bench() const override { return {{"derived-4096", "real-2048"}, "memcpy-floor", false}; }
};

// ---- prep (calibration: header arithmetic, reference only) -------------------------------------

class PrepDriver final : public StageDriver {
public:
    std::string_view name() const override { return "prep"; }
    std::optional<Stage> backend_stage() const override { return std::nullopt; }  // no fast backend implements it
    void check_case(const Case& c) const override {
        if (c.functions != std::vector<std::string>{"degradation"}) require_input(c);
        for (const auto& f : c.functions)
            if (!c.golden.empty() && (f == "update_pointing" || f == "degradation"))
                throw Error(ErrorKind::usage,
                            fmt::format("case {}: {} has one golden record; 'golden' ({}) applies to correct_degradation and exposure only", c.name,
                                        f, c.golden));
    }
    std::string summary(const Case& c) const override {
        return fmt::format("aiapy {} on {} vs aiapy {}", fmt::join(c.functions, ", "), c.input, fmt::join(c.goldens, ", "));
    }
    void golden_row(const Case& c, const std::string& v, ResultRow& row, StageContext& ctx) const override {
        if (!c.input.empty()) row.input_sha256 = ctx.runs.input_sha256(c);
        RowMeter meter;
        CalibrationComparison all = calibration_comparison("prep", v);
        std::vector<std::string> missing;
        bool any = false;
        for (const auto& f : c.functions) {
            std::optional<CalibrationComparison> part;
            const std::string item = c.golden.empty() ? f : f + ":" + c.golden;  // prep's "golden": the records' variant
            if (f == "update_pointing")
                part = update_pointing_vs_golden(ctx.store, v, c.input);
            else if (f == "correct_degradation")
                part = correct_degradation_vs_golden(ctx.store, v, c.input, item);
            else if (f == "exposure")
                part = exposure_vs_golden(ctx.store, v, c.input, item);
            else if (f == "degradation")
                part = degradation_vs_golden(ctx.store, v);
            else
                throw Error(ErrorKind::usage, fmt::format("case {}: unknown prep function '{}'", c.name, f));
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
            return;
        }
        if (!missing.empty()) row.notes.push_back(fmt::format("not checked (no aiapy {} golden): {}", v, fmt::join(missing, ", ")));
        ctx.finish(row, all.measurement, Against::aiapy, nullptr, nullptr, nullptr);
    }
};

const PsfDriver kPsf;
const DeconvolveDriver kDeconvolve;
const RegisterDriver kRegister;
const PrepDriver kPrep;
const StageDriver* const kDrivers[] = {&kPsf, &kDeconvolve, &kRegister, &kPrep};

}  // namespace

std::string StageDriver::summary(const Case& c) const { return fmt::format("vs aiapy {} goldens {}", c.golden, fmt::join(c.goldens, ", ")); }

SyntheticCase StageDriver::make_synthetic(const Case& c) const {
    throw Error(ErrorKind::usage, fmt::format("case {}: no synthetic '{}' case for stage {}", c.name, c.synthetic, c.stage));
}

Image<double> StageDriver::run_exact(Backend&, const Case& c, const SyntheticCase&, const StageOptions&) const {
    throw Error(ErrorKind::usage, fmt::format("case {}: stage {} has no synthetic cases", c.name, c.stage));
}

void StageDriver::versus_reference(const Case& c, Backend&, ResultRow&, const StageOptions&, StageContext&) const {
    throw Error(ErrorKind::usage, fmt::format("case {}: stage {} runs on the reference only", c.name, c.stage));
}

std::span<const StageDriver* const> stage_drivers() { return kDrivers; }

const StageDriver* find_stage_driver(std::string_view name) {
    for (const StageDriver* d : kDrivers)
        if (d->name() == name) return d;
    return nullptr;
}

const StageDriver& stage_driver(std::string_view name) {
    if (const StageDriver* d = find_stage_driver(name)) return *d;
    throw Error(ErrorKind::usage, fmt::format("unknown stage '{}' (known: {})", name, fmt::join(stage_names(), ", ")));
}

std::vector<std::string> stage_names() {
    std::vector<std::string> out;
    for (const StageDriver* d : kDrivers) out.emplace_back(d->name());
    return out;
}

}  // namespace aiaccel::validate
