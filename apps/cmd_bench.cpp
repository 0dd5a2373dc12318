// `aiaccel bench [--stages psf,deconvolve,register,floors] [--backends reference,cpu,cuda] [--precision f64,f32]
//  [--threads 1,2] [--repetitions N] [--baseline-aiapy] [--aiapy-versions 0.10.2,0.12.1,0.12.1-jax]
//  [--aiapy-stages ...] [--out DIR]`: times every stage × backend × precision × threads in this process on the
// real-derived 4096² input and the real 2048² file, the FFTW and memory-bandwidth floors, and optionally aiapy
// in the same run on the same inputs (bench/bench_runner.hpp says how: median after a warm-up); prints a live
// table and writes OUT/rows.json (result rows of kind "speed") for `aiaccel report`.
// Exit code 0 when every row ran or was skipped with a reason, 1 when a run failed, 2 on a usage error.
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <map>

#include "aiaccel_config.hpp"
#include "apps/commands.hpp"
#include "bench/aiapy_baseline.hpp"
#include "bench/bench_inputs.hpp"
#include "bench/bench_runner.hpp"
#include "core/error.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "registry/backend_registry.hpp"
#include "report/report.hpp"

namespace aiaccel::cli {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> checked_list(const std::vector<std::string>& values, const std::vector<std::string>& allowed, const char* option) {
    for (const auto& v : values)
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
            throw Error(ErrorKind::usage, fmt::format("{} {}: expected one of {}", option, v, fmt::join(allowed, ", ")));
    return values;
}

std::optional<double> extra(const validate::ResultRow& r, const char* key) {
    for (const auto& [k, v] : r.extra)
        if (k == key) return v;
    return std::nullopt;
}

void print_row(const validate::ResultRow& r) {
    const auto threads = extra(r, "threads");
    const auto pps = extra(r, "pixels_per_s");
    std::string result = r.verdict == validate::Verdict::skipped ? r.skip_reason
        : r.verdict == validate::Verdict::failed                 ? (r.notes.empty() ? "" : r.notes.back())
                                                 : fmt::format("{:>9.4f} s  {:>9.3g} px/s  {:>6.0f} MiB", r.time_s, pps.value_or(0), r.peak_rss_mib);
    std::string loop;  // the cpu deconvolve loop, from its note
    for (const auto& n : r.notes)
        if (n.rfind("cpu loop: ", 0) == 0) loop = n.substr(10, n.find(' ', 10) - 10);
    fmt::print("{:<8} {:<10} {:<16} {:<12} {:<7} {:<4} {:>3} {:<14} {}\n", validate::to_string(r.verdict), r.stage, r.backend,
               r.fft.empty() ? "-" : r.fft, loop.empty() ? "-" : loop, r.precision, threads ? fmt::format("{:.0f}", *threads) : "-", r.case_name,
               result);
    std::fflush(stdout);
}

}  // namespace

void add_bench(CLI::App& app, int& exit_code) {
    auto* cmd =
        app.add_subcommand("bench",
                           "Time each stage x backend x precision x threads on the real-derived 4096x4096 input (and the real 2048x2048\n"
                           "file for register), the floors (each FFT provider alone doing RL's 100 transforms; one memcpy of the image) and, with\n"
                           "--baseline-aiapy, aiapy from the oracle venvs in the same run on the same inputs. Time = median of\n"
                           "--repetitions wall-clock runs after one warm-up run (FFTW planning excluded); a run whose warm-up exceeds\n"
                           "--max-warmup-s is measured once, cold. Writes OUT/rows.json for `aiaccel report OUT/rows.json -o OUT/report`.\n"
                           "Timings on a shared machine are indicative. aiapy 0.10.2's PSF alone takes minutes (--aiapy-stages limits).");
    auto o = std::make_shared<bench::BenchOptions>();
    auto out = std::make_shared<std::string>("bench-out");
    auto oracle = std::make_shared<std::string>();
    std::string backend_help = "Backends, comma-separated:";
    for (const auto& b : registry::all_backends()) backend_help += fmt::format("\n  {:<10} {}", b.name, registry::help_status(b));
    cmd->add_option("--stages", o->stages, "psf, deconvolve, register, floors (comma-separated)")
        ->delimiter(',')
        ->default_str("psf,deconvolve,register,floors");
    cmd->add_option("--backends", o->backends, backend_help)->delimiter(',')->default_str("reference,cpu,cuda");
    cmd->add_option("--precision", o->precisions, "f64, f32 (the reference runs f64 only)")->delimiter(',')->default_str("f64,f32");
    cmd->add_option("--threads", o->threads, "Thread counts for the cpu backend and the floors (comma-separated)")
        ->delimiter(',')
        ->default_str("1,2");
    cmd->add_option("--fft", o->ffts,
                    "FFT providers of the cpu rows and the FFT floors, each timed in this run (comma-separated): fftw, mkl (builds "
                    "with -Dmkl), auto; default $AIACCEL_FFT, else auto")
        ->delimiter(',');
    cmd->add_option("--cpu-loop", o->cpu_loops,
                    "cpu deconvolve loops, each timed in this run (comma-separated): fused, unfused; default $AIACCEL_DECONVOLVE_CPU, else fused")
        ->delimiter(',');
    cmd->add_option("--repetitions", o->repetitions, "Measured runs per row after the warm-up; the median is reported")
        ->default_str("3")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--max-warmup-s", o->max_warmup_s, "A run whose warm-up takes longer is measured once (cold)")->default_str("20");
    cmd->add_flag("--baseline-aiapy", o->baseline_aiapy, "Also time aiapy (tools/oracle/bench_aiapy.py under each oracle venv)");
    cmd->add_option("--aiapy-versions", o->aiapy_versions, "Oracle venvs to time: 0.10.2, 0.12.1 (numpy), 0.12.1-jax (JAX installed)")
        ->delimiter(',')
        ->default_str("0.10.2,0.12.1,0.12.1-jax");
    cmd->add_option("--aiapy-stages", o->aiapy_stages, "aiapy stages to time: psf, deconvolve, register")
        ->delimiter(',')
        ->default_str("psf,deconvolve,register");
    cmd->add_option("--oracle", *oracle, "Folder of the oracle venvs (default: <source>/.oracle; tools/oracle/setup makes them)");
    cmd->add_option("-o,--out", *out, "Output folder: rows.json, inputs/, aiapy-*.json and logs")->default_str("bench-out");
    cmd->callback([o, out, oracle, cmd, &exit_code] {
        const auto t0 = std::chrono::steady_clock::now();
        checked_list(o->stages, {"psf", "deconvolve", "register", "floors"}, "--stages");
        std::vector<std::string> names;
        for (const auto& b : registry::all_backends()) names.emplace_back(b.name);
        checked_list(o->backends, names, "--backends");
        checked_list(o->precisions, {"f64", "f32"}, "--precision");
        checked_list(o->aiapy_versions, {"0.10.2", "0.12.1", "0.12.1-jax"}, "--aiapy-versions");
        checked_list(o->aiapy_stages, {"psf", "deconvolve", "register"}, "--aiapy-stages");
        for (const auto& f : o->ffts) cpu::check_fft_choice(f);
        checked_list(o->cpu_loops, {"fused", "unfused"}, "--cpu-loop");
        for (int t : o->threads)
            if (t < 1) throw Error(ErrorKind::usage, fmt::format("--threads {}: expected a count >= 1", t));
        const char* root = std::getenv("AIACCEL_ROOT");
        o->oracle_dir = !oracle->empty() ? fs::path(*oracle) : fs::path(root && *root ? root : AIACCEL_SOURCE_ROOT) / ".oracle";
        o->out_dir = *out;
        std::error_code ec;
        fs::create_directories(o->out_dir, ec);
        if (!fs::is_directory(o->out_dir)) throw file_error(ErrorKind::usage, *out, "--out: cannot create the output folder");
        const std::string self = cmd->get_parent() && !cmd->get_parent()->get_name().empty() ? cmd->get_parent()->get_name() : "aiaccel";
        o->repro_prefix = self + " bench";
        o->log = [](const std::string& line) { fmt::print(stderr, "bench: {}\n", line); };

        fmt::print("aiaccel bench: stages {} · backends {} · precision {} · threads {} · fft {} · {} repetitions (median after 1 warm-up){}\n",
                   fmt::join(o->stages, ","), fmt::join(o->backends, ","), fmt::join(o->precisions, ","), fmt::join(o->threads, ","),
                   o->ffts.empty() ? cpu::fft_choice() : fmt::format("{}", fmt::join(o->ffts, ",")), o->repetitions,
                   o->baseline_aiapy ? fmt::format(" · aiapy {} on {}", fmt::join(o->aiapy_versions, ","), fmt::join(o->aiapy_stages, ",")) : "");
        for (const auto& b : o->backends) fmt::print("  {}\n", registry::find_backend(b).probe().reason);
        if (o->baseline_aiapy)
            for (const auto& v : o->aiapy_versions) {
                const auto venv = bench::aiapy_venv(o->oracle_dir, v);
                const bool there = fs::exists(venv / "bin" / "python", ec);
                fmt::print("  {}: {}{}\n", bench::aiapy_backend_name(v), venv.string(),
                           there ? "" : fmt::format(" (not installed: tools/oracle/setup {})", v == "0.12.1-jax" ? "jax" : "all"));
            }
        else
            fmt::print(
                "  aiapy: not timed (--baseline-aiapy; needs the oracle venvs: tools/oracle/setup all && tools/oracle/setup jax);\n"
                "         the report then gives speed ratios to the reference only\n");
        fmt::print("\n{:<8} {:<10} {:<16} {:<12} {:<7} {:<4} {:>3} {:<14} {}\n", "STATUS", "STAGE", "BACKEND", "FFT", "LOOP", "PREC", "THR", "CASE",
                   "TIME / REASON");

        std::fflush(stdout);
        const auto rows = bench::run_bench(*o, print_row);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        nlohmann::json doc = {{"command", "aiaccel bench"},
                              {"aiaccel_version", AIACCEL_VERSION},
                              {"timing",
                               "wall clock; median of --repetitions runs after 1 warm-up run (not counted: FFTW planning, "
                               "first-touch pages, JAX compilation); a run whose warm-up exceeds --max-warmup-s is measured once"},
                              {"repetitions", o->repetitions},
                              {"max_warmup_s", o->max_warmup_s},
                              {"inputs", bench::describe_inputs()},
                              {"wall_s", wall},
                              {"rows", nlohmann::json::array()}};
        for (const auto& r : rows) doc["rows"].push_back(validate::to_json(r));
        validate::report::write_file_atomic(o->out_dir / "rows.json", doc.dump(1) + "\n");
        std::map<validate::Verdict, int> n;
        for (const auto& r : rows) ++n[r.verdict];
        fmt::print("\n{} measured, {} failed, {} skipped in {:.1f} s\nrows: {}\nreport: {} report {} -o {}\n", n[validate::Verdict::passed],
                   n[validate::Verdict::failed], n[validate::Verdict::skipped], wall, (o->out_dir / "rows.json").string(), self,
                   (o->out_dir / "rows.json").string(), (o->out_dir / "report").string());
        exit_code = n[validate::Verdict::failed] > 0 ? 1 : 0;
    });
}

}  // namespace aiaccel::cli
