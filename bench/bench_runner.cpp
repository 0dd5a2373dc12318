// `aiaccel bench`'s runner (see bench_runner.hpp): selection, warm-up + median timing, rows.
#include "bench/bench_runner.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

#include "bench/aiapy_baseline.hpp"
#include "bench/bench_inputs.hpp"
#include "bench/bench_stages.hpp"
#include "core/error.hpp"
#include "core/derived_input.hpp"
#include "core/fits_io.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "registry/backend_registry.hpp"
#include "validate/stage_driver.hpp"

namespace aiaccel::bench {
namespace fs = std::filesystem;
using validate::ResultRow;
using validate::Verdict;

Measurement measure(const std::function<void()>& run, int repetitions, double max_warmup_s) {
    using clock = std::chrono::steady_clock;
    auto timed = [&] {
        const auto t0 = clock::now();
        run();
        return std::chrono::duration<double>(clock::now() - t0).count();
    };
    Measurement m;
    reset_peak_rss();
    m.warmup_s = timed();
    std::vector<double> t;
    if (m.warmup_s <= max_warmup_s)
        for (int i = 0; i < std::max(repetitions, 1); ++i) t.push_back(timed());
    m.runs = int(t.size());
    if (t.empty()) t.push_back(m.warmup_s);
    std::sort(t.begin(), t.end());
    m.time_s = t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
    m.min_s = t.front();
    m.max_s = t.back();
    m.peak_rss_mib = peak_rss_mib();
    return m;
}

std::string timing_note(const Measurement& m, int repetitions, const std::string& warmup_absorbs) {
    if (m.runs == 0) return fmt::format("one cold run ({:.1f} s; no warm-up: a run longer than the warm-up limit is measured once)", m.warmup_s);
    return fmt::format("median of {} run{} (min {:.4g} s, max {:.4g} s) after 1 warm-up run of {:.4g} s, not counted ({})", repetitions,
                       repetitions == 1 ? "" : "s", m.min_s, m.max_s, m.warmup_s, warmup_absorbs);
}

namespace {

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

struct Job {
    StageSpec spec;
    bool floor = false;
};

// The jobs in pipeline order: for each stage, each backend (reference single-threaded and float64
// only; cuda: one host thread setting), precision, thread count and case; floors after their stage.
std::vector<Job> jobs(const BenchOptions& opt) {
    std::vector<Job> out;
    const std::vector<std::string> all_ffts = opt.ffts.empty() ? std::vector<std::string>{cpu::fft_choice()} : opt.ffts;
    for (const validate::StageDriver* driver : validate::stage_drivers()) {
        const std::string stage(driver->name());
        if (!driver->backend_stage() || driver->bench().cases.empty()) continue;  // not timed (prep)
        if (has(opt.stages, stage))
            for (const auto& b : opt.backends) {
                const auto& caps = registry::find_backend(b).caps.of(*driver->backend_stage());  // an absent backend gives SKIPPED rows
                for (const auto& p : opt.precisions) {
                    const Precision prec = *parse_precision(p);
                    if (!caps.accepts(prec)) continue;  // the reference: float64 only
                    const std::vector<int> threads = registry::find_backend(b).caps.host_threads ? opt.threads : std::vector<int>{1};
                    if (!stage_has_precision(stage, prec)) continue;  // psf: float64 only
                    const bool cpu = b == "cpu";
                    const std::vector<std::string> none{""};
                    const auto& loops = cpu && driver->backend_stage() == Stage::deconvolve && !opt.cpu_loops.empty() ? opt.cpu_loops : none;
                    for (const auto& f : cpu ? all_ffts : none)
                        for (const auto& l : loops)
                            for (int t : threads)
                                for (const auto& c : stage_cases(stage)) out.push_back({{stage, b, c, prec, t, f, l}, false});
                }
            }
        const std::string floor = floor_backend(stage);
        if (has(opt.stages, "floors") && !floor.empty())
            for (const auto& p : opt.precisions)
                for (const auto& f : floor == kFftwFloor ? all_ffts : std::vector<std::string>{""})
                    for (int t : opt.threads)
                        for (const auto& c : stage_cases(stage)) {
                            const Precision prec = *parse_precision(p);
                            out.push_back(
                                {{.stage = stage, .backend = f.empty() ? floor : fft_floor(f, prec), .case_name = c, .precision = prec, .threads = t},
                                 true});
                        }
    }
    return out;
}

ResultRow base_row(const Job& j, const BenchOptions& opt, const validate::MachineInfo& machine) {
    ResultRow r;
    r.kind = "speed";
    r.stage = j.spec.stage;
    r.backend = j.spec.backend;
    r.precision = std::string(to_string(j.spec.precision));
    r.case_name = j.spec.case_name;
    r.against = "";
    r.machine = machine;
    r.repro = j.floor ? fmt::format("{} --stages floors --precision {} --threads {}{}", opt.repro_prefix, r.precision, j.spec.threads,
                                    j.spec.backend == kMklFloor        ? " --fft mkl"
                                        : j.spec.backend == kFftwFloor ? " --fft fftw"
                                                                       : "")
                      : fmt::format("{} --stages {} --backends {} --precision {} --threads {}{}{}", opt.repro_prefix, r.stage, r.backend, r.precision,
                                    j.spec.threads, j.spec.fft.empty() ? "" : " --fft " + j.spec.fft,
                                    j.spec.cpu_loop.empty() ? "" : " --cpu-loop " + j.spec.cpu_loop);
    r.extra.emplace_back("threads", j.spec.threads);
    if (j.spec.case_name == kDerivedCase) {
        r.input_sha256 = inputs().derived_sha256;
        r.notes.push_back(fmt::format("input {}: derived 4096x4096 ({}), NOT a real observation", kDerivedCase, kDerived1600Label));
    } else if (j.spec.case_name == kRealCase) {
        r.notes.push_back(fmt::format("input {}: the real 2048x2048 file {}", kRealCase, inputs().real_path.filename().string()));
    }
    const Capabilities* caps = j.floor ? nullptr : &registry::find_backend(j.spec.backend).caps;  // floors are no backend
    r.notes.push_back(caps && !caps->host_threads && caps->device == "host"
                          ? fmt::format("1 thread ({} is single-threaded)", j.spec.backend)
                          : fmt::format("{} thread{}", j.spec.threads, j.spec.threads == 1 ? "" : "s"));
    return r;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// cuda rows: time_s is end to end (host wall clock: host work, transfers, device); the CUDA-event
// times of the same runs (fast/cuda's StageEvents, warm-up dropped) go in as device_compute_s
// (kernels + cuFFT), device_upload_s and device_download_s, medians over the measured runs.
void add_device_times(ResultRow& r, const std::vector<DeviceTiming>& t, const Measurement& m) {
    r.extra.emplace_back("end_to_end_s", m.time_s);
    const std::size_t skip = m.runs > 0 && t.size() > std::size_t(m.runs) ? t.size() - std::size_t(m.runs) : 0;
    std::vector<double> compute, up, down;
    for (std::size_t i = skip; i < t.size(); ++i) {
        if (!t[i].valid) {
            r.notes.push_back("device time NOT recorded: " + t[i].error);
            return;
        }
        compute.push_back(t[i].compute_ms * 1e-3);
        up.push_back(t[i].upload_ms * 1e-3);
        down.push_back(t[i].download_ms * 1e-3);
    }
    if (compute.empty()) {
        r.notes.push_back("device time NOT recorded: no timed run");
        return;
    }
    r.extra.emplace_back("device_compute_s", median(compute));
    r.extra.emplace_back("device_upload_s", median(up));
    r.extra.emplace_back("device_download_s", median(down));
    r.notes.push_back(
        fmt::format("device compute {:.4g} ms (CUDA events, kernels + cuFFT; median of {}) within {:.4g} ms end to end; "
                    "transfers {:.4g} ms up, {:.4g} ms down",
                    median(compute) * 1e3, compute.size(), m.time_s * 1e3, median(up) * 1e3, median(down) * 1e3));
}

ResultRow run_job(const Job& j, const BenchOptions& opt, const validate::MachineInfo& machine) {
    ResultRow r = base_row(j, opt, machine);
    try {
        PreparedRun p = prepare(j.spec);  // sets the FFT provider of a cpu job or an FFT floor
        if (p.backend) r.target = p.backend->target(*validate::stage_driver(j.spec.stage).backend_stage());
        if (j.floor && j.spec.backend != kMemcpyFloor)
            r.fft = cpu::fft_label(j.spec.precision);
        else if (!j.floor)
            r.fft = registry::backend_fft(j.spec.backend, j.spec.precision);
        if (p.plan_s >= 0) r.extra.emplace_back("plan_s", p.plan_s);
        if (opt.log) opt.log(fmt::format("timing {}", label(j.spec)));
        const bool device = p.backend && p.backend->device_timing(j.spec.stage).has_value();
        std::vector<DeviceTiming> device_times;
        const std::function<void()> run = !device ? p.run : std::function<void()>([&] {
            p.backend->reset_device_timing(j.spec.stage);
            p.run();
            device_times.push_back(*p.backend->device_timing(j.spec.stage));
        });
        const Measurement m = measure(run, opt.repetitions, opt.max_warmup_s);
        r.verdict = Verdict::passed;
        r.time_s = m.time_s;
        r.peak_rss_mib = m.peak_rss_mib;
        r.extra.emplace_back("pixels_per_s", p.pixels / m.time_s);
        r.extra.emplace_back("runs", m.runs);
        r.extra.emplace_back("min_s", m.min_s);
        r.extra.emplace_back("max_s", m.max_s);
        r.extra.emplace_back("warmup_s", m.warmup_s);
        if (validate::stage_driver(j.spec.stage).bench().iterations) r.extra.emplace_back("iterations", kIterations);
        r.notes.insert(r.notes.end(), p.notes.begin(), p.notes.end());
        r.notes.push_back(timing_note(
            m, opt.repetitions, device ? "cuFFT planning, device allocations, the resident PSF transform" : "FFTW planning, first-touch pages"));
        if (device) add_device_times(r, device_times, m);
    } catch (const Error& e) {
        r.verdict = Verdict::skipped;
        r.skip_reason = e.what();
    } catch (const std::exception& e) {
        r.verdict = Verdict::failed;
        r.notes.push_back(fmt::format("the run threw: {}", e.what()));
    }
    return r;
}

}  // namespace

std::vector<ResultRow> run_bench(const BenchOptions& opt, const std::function<void(const ResultRow&)>& on_row) {
    const auto machine = validate::MachineInfo::here();
    std::vector<ResultRow> rows;
    if (opt.log) opt.log("loading inputs: " + describe_inputs());
    (void)inputs();
    for (const auto& j : jobs(opt)) {
        rows.push_back(run_job(j, opt, machine));
        on_row(rows.back());
    }
    if (opt.baseline_aiapy) {
        // aiapy gets the same inputs: the same real file (it derives the 4096² map by the same rule and
        // its hash is checked against ours) and our 171 Å PSF, written here.
        const fs::path psf_file = opt.out_dir / "inputs" / "psf-171.fits";
        fs::create_directories(psf_file.parent_path());
        FitsHeader h;
        h.set_string("CONTENT", "aiaccel cpu 171 A PSF (4096x4096), the PSF aiapy's deconvolve is given");
        WriteOptions wo;
        write_fits(psf_file, inputs().psf171, h, wo);
        AiapyRequest req;
        req.oracle_dir = opt.oracle_dir;
        req.stages = opt.aiapy_stages;
        req.out_dir = opt.out_dir;
        req.psf_fits = psf_file;
        req.real_fits = inputs().real_path;
        req.derived_sha256 = inputs().derived_sha256;
        req.repetitions = opt.repetitions;
        req.max_warmup_s = opt.max_warmup_s;
        req.log = opt.log;
        for (const auto& v : opt.aiapy_versions) {
            req.version = v;
            for (auto& r : run_aiapy(req, machine)) {
                rows.push_back(std::move(r));
                on_row(rows.back());
            }
        }
    }
    return rows;
}

}  // namespace aiaccel::bench
