// `aiaccel prep INPUTS... -o OUTDIR --level 1.5|1.6 ...`: the production batch pipeline — aiapy's
// level-1 → 1.5 chain (update_pointing → register → correct_degradation → exposure normalisation), or
// level 1.6 (psf.deconvolve first, on the level-1 CCD grid), over files, folders, globs or @lists,
// with a bounded streaming pipeline, per-file failures, a manifest, --resume, --dry-run and --shard.
// The engine is apps/prep_pipeline.cpp, the per-image chain apps/prep_chain.cpp.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <sstream>
#include <thread>

#include "aiaccel_config.hpp"
#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "apps/prep_inputs.hpp"
#include "apps/prep_pipeline.hpp"
#include "apps/prep_signals.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "registry/backend_registry.hpp"

namespace aiaccel::cli {
namespace fs = std::filesystem;

namespace {

// --backend auto: cuda when its probe says it runs here, else cpu (else the reference); says why.
std::string resolve_auto_backend(bool say) {
    std::string why;
    for (const char* name : {"cuda", "cpu"}) {
        const Availability a = registry::find_backend(name).probe();
        if (a.available) {
            if (say) fmt::print(stderr, "prep: --backend auto → {} ({}{})\n", name, a.reason, why.empty() ? "" : "; " + why);
            return name;
        }
        append_joined(why, "; ", a.reason);
    }
    if (say) fmt::print(stderr, "prep: --backend auto → reference ({})\n", why);
    return "reference";
}

// A word as a POSIX shell reads it back: bare when it is plain, else in single quotes.
std::string shell_word(const std::string& w) {
    const bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_./=:,@%+-").find(c) != std::string_view::npos;
    });
    if (plain) return w;
    std::string q = "'";
    for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// Test hook: AIACCEL_TEST_STOP=lock|worker stops the process (SIGSTOP) once it holds the output folder's
// lock, or once the worker is ready, so tests can act on a run in that state without timing races.
bool test_stop_at(const char* where) {
    const char* v = std::getenv("AIACCEL_TEST_STOP");
    return v && std::string_view(v) == where;
}

// At most 4 workers per hardware thread (at least 8): each holds an image, and more only wait.
int max_jobs() { return static_cast<int>(std::max(8u, 4 * std::max(1u, std::thread::hardware_concurrency()))); }

using namespace prep;

// The options of `aiaccel prep` (add_prep declares them).
struct PrepArgs {
    std::vector<std::string> inputs;
    std::string outdir, level = "1.5", steps, pointing_table, correction_table, backend = "auto", version = "0.10.2", shard, compress = "none",
                        worker, output_dtype = "native";
    int calibration_version = 10, iterations = 25, jobs = 0;
    bool overwrite = false, resume = false, dry = false, no_verify = false;
    StageArgs stage;
};

// The steps (--steps, or the level's defaults) and the tables they need, checked before anything runs.
ChainSettings chain_settings(const PrepArgs& a) {
    if (a.resume && a.overwrite) throw Error(ErrorKind::usage, "--resume and --overwrite exclude each other");
    auto version = parse_aiapy_version(a.version);
    if (!version) throw Error(ErrorKind::usage, fmt::format("--aiapy-version {}: expected 0.10.2 or 0.12.1", a.version));
    ChainSettings cs;
    cs.level = a.level;
    cs.version = *version;
    cs.iterations = a.iterations;
    cs.calibration_version = a.calibration_version;
    cs.output_f32 = a.output_dtype == "float32";
    if (a.steps.empty()) {
        if (!a.pointing_table.empty()) cs.steps.insert("pointing");
        if (a.level == "1.6") cs.steps.insert("deconvolve");
        cs.steps.insert("register");
        if (!a.correction_table.empty()) cs.steps.insert("degradation");
        cs.steps.insert("exposure");
    } else {
        std::stringstream ss(a.steps);
        for (std::string s; std::getline(ss, s, ',');) {
            if (std::find(kStepOrder.begin(), kStepOrder.end(), s) == kStepOrder.end())
                throw Error(ErrorKind::usage,
                            fmt::format("--steps: unknown step '{}' (known: pointing, deconvolve, register, degradation, exposure)", s));
            cs.steps.insert(s);
        }
    }
    if (cs.steps.count("pointing") && a.pointing_table.empty()) throw Error(ErrorKind::usage, "step 'pointing' needs --pointing-table");
    if (cs.steps.count("degradation") && a.correction_table.empty()) throw Error(ErrorKind::usage, "step 'degradation' needs --correction-table");
    if (!a.pointing_table.empty()) cs.pointing = reference::read_pointing_table(a.pointing_table);
    if (!a.correction_table.empty()) cs.response = reference::read_response_table(a.correction_table);
    return cs;
}

int effective_jobs(const PrepArgs& a, bool worker) {
    int jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (jobs > max_jobs()) {
        if (!worker) fmt::print(stderr, "prep: --jobs {} is more than this machine can use; using {} (4 per hardware thread)\n", jobs, max_jobs());
        jobs = max_jobs();
    }
    return jobs;
}

// Every option that changes the outputs, so the record reproduces the run.
std::string record_command(const PrepArgs& a, const ChainSettings& cs, int jobs) {
    std::string steps_list;
    for (const auto& st : kStepOrder)
        if (cs.steps.count(st)) append_joined(steps_list, ",", st);
    std::string command = "aiaccel prep";
    for (const auto& i : a.inputs) command += " " + shell_word(i);
    command += fmt::format(" -o {} --level {} --steps {}", shell_word(a.outdir), a.level, steps_list);
    if (!a.pointing_table.empty()) command += " --pointing-table " + shell_word(a.pointing_table);
    if (!a.correction_table.empty())
        command += fmt::format(" --correction-table {} --calibration-version {}", shell_word(a.correction_table), a.calibration_version);
    if (cs.steps.count("deconvolve")) command += fmt::format(" --iterations {}", a.iterations);
    command +=
        fmt::format(" --aiapy-version {} --backend {} --precision {} --jobs {} --compress {}{}{}{}{}{}", a.version, a.backend, a.stage.precision,
                    jobs, a.compress, cs.output_f32 ? " --output-dtype float32" : "", a.shard.empty() ? "" : " --shard " + a.shard,
                    a.resume ? " --resume" : "", a.overwrite ? " --overwrite" : "", a.no_verify ? " --no-verify-checksum" : "");
    return command;
}

// A worker process of the supervisor (prep_supervisor.cpp): its assignment comes on a pipe.
int run_worker(const PrepArgs& a, const ChainSettings& cs, BatchSettings bs, int jobs) {
    const WorkerLink link = parse_worker_link(a.worker);
    std::vector<WorkItem> work;
    read_worker_assignment(link, work, bs.claimed_before, bs.retried);
    if (a.shard.empty() || a.shard == "0/1")
        bs.stale.clear();
    else
        bs.stale = stale_temporaries(a.outdir);
    const std::string backend_name = a.backend == "auto" ? resolve_auto_backend(link.round == 0) : a.backend;
    StageOptions so;
    auto backend = make_stage_backend(backend_name, a.stage, so);
    if (!backend) throw Error(ErrorKind::usage, fmt::format("--backend {}: not available here (no implementation built)", backend_name));
    so.threads = jobs;
    if (link.round == 0) fmt::print(stderr, "prep: backend {} {}, {} job(s), aiapy {} semantics\n", backend_name, a.stage.precision, jobs, a.version);
    const BatchHooks hooks = worker_hooks(link, backend_name);
    if (test_stop_at("worker")) ::raise(SIGSTOP);
    Chain chain(cs, std::move(backend), registry::find_backend(backend_name).caps, so);
    Manifest m;
    return run_batch(chain, work, bs, m, hooks) ? 1 : 0;
}

// The supervisor: the sorted input list (or its shard), the output folder and its lock, worker
// processes that do the work, and the record.
int run_supervisor(const PrepArgs& a, const ChainSettings& cs, BatchSettings bs, int jobs) {
    const Shard shard = a.shard.empty() ? Shard{} : parse_shard(a.shard);
    // The full sorted list (paths only: memory stays small), then this shard's part of it.
    const std::vector<std::string> all = expand_inputs(a.inputs);
    if (all.empty()) throw Error(ErrorKind::usage, "no input files (folders are searched for *.fits, *.fits.gz, *.fts, *.fit)");
    std::vector<WorkItem> work;
    for (std::size_t k = 0; k < all.size(); ++k)
        if (shard.owns(k)) work.push_back({k, all[k]});
    if (a.dry) {
        fmt::print(stderr, "prep --dry-run: level {}, steps {}, {} of {} input(s) (shard {})\n", cs.level, cs.plan(), work.size(), all.size(),
                   shard.text());
        return dry_run(cs, work, bs) ? 1 : 0;
    }

    {  // a bad --backend / --precision fails here, before the output folder is created (the worker makes its own)
        StageOptions so;
        make_stage_backend(a.backend == "auto" ? resolve_auto_backend(false) : a.backend, a.stage, so);
    }
    std::error_code ec;
    fs::create_directories(a.outdir, ec);
    if (!fs::is_directory(a.outdir)) throw file_error(ErrorKind::usage, a.outdir, "cannot create the output folder");
    const std::string command = record_command(a, cs, jobs);
    const OutputLock lock(a.outdir, shard.text(), command);
    if (test_stop_at("lock")) ::raise(SIGSTOP);
    bs.lock_fds = lock.fds();
    for (int i = 0; lock.waited() && i < 100 && temporaries_of_live_processes(a.outdir); ++i)  // the worker closed its files
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // but is not yet a zombie
    if (lock.whole_folder()) {  // nobody else writes here: every dead process's temporaries can go
        if (const std::size_t k = remove_temporaries(a.outdir, 0))
            fmt::print(stderr, "prep: removed {} temporary file(s) left by interrupted runs\n", k);
    } else {
        bs.stale = stale_temporaries(a.outdir);  // a shard: only those of the outputs it claims
    }

    Manifest m;
    m.tool = fmt::format("aiaccel {}", AIACCEL_VERSION);
    m.command = command;
    m.level = cs.level;
    m.steps = cs.signature();
    m.backend = a.backend;
    m.precision = a.stage.precision;
    m.shard = shard.text();
    m.inputs_total = all.size();
    m.inputs_sha256 = list_sha256(all);
    m.started_utc = utc_now_iso8601();
    fmt::print(stderr, "prep: level {}, steps {}, {} of {} input(s) (shard {}) → {}\n", cs.level, cs.plan(), work.size(), all.size(), shard.text(),
               escape_control(a.outdir));
    const Supervised r = supervise_batch(work, bs, m);
    if (r.worker_exit > 0) {  // the worker could not start (e.g. --backend unavailable); it said why
        return r.worker_exit;
    }
    std::size_t ok = 0, skipped = 0;
    for (const auto& e : m.entries) {
        if (e.status == Status::ok) ++ok;
        if (e.status == Status::skipped) ++skipped;
    }
    fmt::print(stderr, "prep: {} written, {} skipped (already done), {} failed in {:.1f} s → {} ({})\n", ok, skipped, r.failed, m.wall_s,
               escape_control(a.outdir), manifest_path(a.outdir, m.shard).filename().string());
    if (r.signal) {
        fmt::print(stderr, "prep: interrupted by signal {} ({}): temporary files removed; --resume goes on from here\n", r.signal,
                   r.signal == SIGINT        ? "SIGINT"
                       : r.signal == SIGTERM ? "SIGTERM"
                                             : "SIGHUP");
        return 128 + r.signal;
    }
    return r.failed ? 1 : 0;
}

int run_prep(const PrepArgs& a) {
    ChainSettings cs = chain_settings(a);
    const bool worker = !a.worker.empty();
    const int jobs = effective_jobs(a, worker);
    // Name and label the outputs by what is done: without register they stay level 1 (as aiapy).
    cs.level = ChainSettings::level_for(cs.steps);
    if (cs.level != a.level && !worker && !a.steps.empty())
        fmt::print(stderr, "prep: steps {} → the outputs are level {} (aia_lev{}_…; LVL_NUM is set by register only), not {}\n", cs.plan(), cs.level,
                   cs.level, a.level);
    BatchSettings bs;
    bs.outdir = a.outdir;
    bs.jobs = jobs;
    bs.overwrite = a.overwrite;
    bs.resume = a.resume;
    bs.verify_checksum = !a.no_verify;
    bs.compression = a.compress == "rice" ? Compression::rice : Compression::none;
    return worker ? run_worker(a, cs, std::move(bs), jobs) : run_supervisor(a, cs, std::move(bs), jobs);
}

}  // namespace

void add_prep(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("prep",
                                   "Level-1 → level-1.5 (or 1.6) preparation of AIA images, as aiapy does it, over one file or a year of them.\n"
                                   "Steps (always in aiapy's documented order; --steps picks a subset, e.g. --steps exposure):\n"
                                   "  pointing     aiapy.calibrate.update_pointing from --pointing-table (on by default when a table is given)\n"
                                   "  deconvolve   aiapy.psf.deconvolve, 25 iterations (level 1.6 only; full-frame 4096x4096 EUV images)\n"
                                   "  register     aiapy.calibrate.register (default)\n"
                                   "  degradation  aiapy.calibrate.correct_degradation with --correction-table (on when a table is given)\n"
                                   "  exposure     map / map.exposure_time → DN/s (default)\n"
                                   "INPUTS: files, folders (every *.fits below them), glob patterns ('data/2024/*/aia*.fits', quoted), or @LIST\n"
                                   "(a text file, one input per line). The list is sorted and de-duplicated, so every run sees the same order.\n"
                                   "Output: OUTDIR/aia_lev<LEVEL>_<CHANNEL>a_<DATE-OBS with -:. as _ and T as t>z.fits, e.g.\n"
                                   "aia_lev1.5_171a_2013_03_10t12_00_11_34z.fits (JSOC/sunpy export style), written atomically (temporary\n"
                                   "file + rename) with FITS DATASUM/CHECKSUM and a HISTORY line naming level, steps and aiapy semantics.\n"
                                   "Pipeline: --jobs N threads each decode (FITS read, RICE), compute and write, overlapped; at most N+2\n"
                                   "images are in memory whatever the number of inputs. Deconvolve and register run on --backend; a stage\n"
                                   "the backend does not have yet runs on the reference backend (said once, and in the manifest's 'stages').\n"
                                   "The PSF is computed once per channel per run.\n"
                                   "A bad input (truncated, not AIA, wrong level, missing keyword or pointing entry, no full disk for register)\n"
                                   "is reported and skipped; the others go on; the exit code is then 1. OUTDIR/manifest.json lists every input\n"
                                   "(index, path, size, sha256, output, output sha256 / content sha256 / DATASUM, status ok|skipped|failed,\n"
                                   "reason, seconds, timings_s: seconds per step) with time_budget_s (the mean per step), and\n"
                                   "OUTDIR/failures.txt the failed ones (input<TAB>kind<TAB>reason); both are written\n"
                                   "atomically, and the manifest is refreshed every 30 s while running.\n"
                                   "--resume skips inputs whose output exists, passes its FITS checksum and carries the same HISTORY line, so\n"
                                   "a killed run (even kill -9) resumes without reprocessing or leaving partial outputs.\n"
                                   "--shard I/N processes inputs k with k mod N == I of the sorted list (N jobs with I = 0..N-1 cover every\n"
                                   "input once) and names its record manifest.shard-I-of-N.json; `aiaccel merge-manifests` checks coverage.\n"
                                   "On Slurm: tools/slurm/prep-array.sbatch (a job array, one shard per task).\n"
                                   "Without register (--steps), outputs stay level 1: aia_lev1_…, LVL_NUM unchanged, HISTORY naming the steps.\n"
                                   "The work runs in a worker process: an input that crashes the decoder fails alone (\"decoder crashed: SIGSEGV\")\n"
                                   "and the rest goes on. One run per OUTDIR at a time (a lock that ends with the process; the shards of one\n"
                                   "batch share it); a second run exits 2 naming the holder. SIGINT/SIGTERM remove the run's temporary files,\n"
                                   "write the manifest and exit 130/143; temporary files of dead runs are removed by the next run.\n"
                                   "Exit: 0 all ok, 1 a file failed, 2 usage (or OUTDIR in use), 130/143 interrupted.");
    auto a = std::make_shared<PrepArgs>();
    cmd->add_option("INPUTS", a->inputs, "AIA level-1 FITS files, folders, glob patterns or @list.txt")->required();
    add_fft_option(cmd);
    cmd->add_option("-o,--output-dir", a->outdir, "Output folder (created if missing)")->required();
    cmd->add_option("--level", a->level, "1.5 (pointing + register + exposure) or 1.6 (deconvolve first)")
        ->check(CLI::IsMember({"1.5", "1.6"}))
        ->default_val("1.5");
    cmd->add_option("--steps", a->steps, "Comma-separated subset of: pointing,deconvolve,register,degradation,exposure");
    cmd->add_option("--pointing-table", a->pointing_table, "Master pointing table file (CSV in aiapy's column layout)");
    cmd->add_option("--correction-table", a->correction_table, "SSW response table for degradation (e.g. testdata/aia/tables/aia_V10_*)");
    cmd->add_option("--calibration-version", a->calibration_version, "Response-table VER_NUM to use (aiapy 0.12.1 semantics)")->default_val(10);
    cmd->add_option("--aiapy-version", a->version, "Reproduce aiapy 0.10.2 or 0.12.1 where they differ")->default_val("0.10.2");
    cmd->add_option("--iterations", a->iterations, "Richardson-Lucy iterations for level 1.6")->default_val(25)->check(CLI::NonNegativeNumber);
    std::string backends = "Implementation of deconvolve and register: auto (cuda when its probe finds a device, else cpu), or";
    for (const auto& b : registry::all_backends()) backends += fmt::format("\n  {:<10} {} [{}]", b.name, b.description, registry::help_status(b));
    cmd->add_option("--backend", a->backend, backends)->default_val("auto");
    cmd->add_option("--precision", a->stage.precision, "Compute precision of the backend: f64 or f32 (f32: cpu/cuda deconvolve)")->default_val("f64");
    cmd->add_option("-j,--jobs", a->jobs, "Worker threads per pipeline stage, also the fast backends' threads (0: hardware threads)")
        ->default_val(0)
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--shard", a->shard, "I/N: process only inputs k with k mod N == I of the sorted list (0 <= I < N)");
    cmd->add_flag("--no-verify-checksum", a->no_verify, "Read inputs whose DATASUM/CHECKSUM do not verify (default: refuse them, exit 2)");
    cmd->add_flag("--resume", a->resume, "Skip inputs whose output exists and verifies (checksum + same settings)");
    cmd->add_flag("--overwrite", a->overwrite, "Replace existing outputs (default: an existing output is a failure)");
    cmd->add_flag("--dry-run", a->dry, "List each input, its output and what would be done; write nothing");
    cmd->add_option("--compress", a->compress,
                    "Output compression: none (default, lossless, bit-reproducible) or rice (JSOC-style "
                    "tile compression: lossless for integers, quantised q=16 for floats, dither seeded by CFITSIO from the clock)")
        ->check(CLI::IsMember({"rice", "none"}))
        ->default_val("none");
    cmd->add_option("--output-dtype", a->output_dtype,
                    "Pixel type of the outputs: native (default: the type aiapy's output has, as sunpy's Map.save writes it;\n"
                    "float64 for the float64 results of register) or float32 (float64 results rounded to float32: half the\n"
                    "bytes to write and hash; not what aiapy writes, and the HISTORY line says 'float32 output')")
        ->check(CLI::IsMember({"native", "float32"}))
        ->default_val("native");
    // Set by prep itself for its worker process (prep_pipeline.hpp supervise_batch); hidden from --help.
    cmd->add_option("--internal-worker", a->worker, "")->group("");
    cmd->callback([a, &exit_code] { exit_code = run_prep(*a); });
}

}  // namespace aiaccel::cli
