// `aiaccel validate [--backends reference,cpu,cuda|all] [--stages psf,deconvolve,register,prep]
//  [--precision f64,f32] [--cases quick|full|NAME...] [--data DIR] [--out DIR] [--baseline F]`:
// the validation harness (validate/runner.hpp) over the case list (validate/cases.json). Prints a
// live table (one line per case × stage × backend × precision: PASSED / FAILED / SKIPPED with the
// reason; for a failure the command that reproduces it and its FITS dumps), writes OUT/rows.json
// for `aiaccel report`. Exit code 0 when everything that ran passed, 1 when anything failed, 2 on a
// usage or input error.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <map>

#include "aiaccel_config.hpp"
#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "registry/backend_registry.hpp"
#include "validate/candidate_backend.hpp"
#include "validate/junit.hpp"
#include "report/report.hpp"
#include "validate/runner.hpp"
#include "validate/stage_driver.hpp"

namespace aiaccel::cli {
namespace fs = std::filesystem;
namespace {

struct Args {
    std::vector<std::string> backends{"all"}, stages, precisions{"f64", "f32"}, cases{"quick"};
    std::string data, out = "validate-out", baseline, cache, junit;
    std::vector<std::string> candidates, candidate_bounds;
    double candidate_timeout = validate::CandidateOptions{}.timeout_s;
    bool no_cache = false, list = false, images = false, quiet = false;
};

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

fs::path source_root() { return env("AIACCEL_ROOT").empty() ? fs::path(AIACCEL_SOURCE_ROOT) : fs::path(env("AIACCEL_ROOT")); }

fs::path default_data_dir(const fs::path& root) {
    if (!env("AIA_DATA_DIR").empty()) return env("AIA_DATA_DIR");
    std::error_code ec;
    if (fs::is_directory(root / ".." / "shared" / "aia", ec)) return (root / ".." / "shared" / "aia").lexically_normal();
    return root / "data";
}

fs::path default_cache_dir() {
    if (!env("AIACCEL_CACHE").empty()) return env("AIACCEL_CACHE");
    if (!env("XDG_CACHE_HOME").empty()) return fs::path(env("XDG_CACHE_HOME")) / "aiaccel" / "validate";
    if (!env("HOME").empty()) return fs::path(env("HOME")) / ".cache" / "aiaccel" / "validate";
    return {};
}

// Checks every listed value against the allowed ones (Error(usage) naming the option otherwise).
std::vector<std::string> checked(const std::vector<std::string>& values, const std::vector<std::string>& allowed, const char* option) {
    for (const auto& v : values)
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
            throw Error(ErrorKind::usage, fmt::format("{} {}: expected one of {}", option, v, fmt::join(allowed, ", ")));
    return values;
}

std::string quote(const std::string& s) {
    if (s.find_first_of(" '\"$\\") == std::string::npos) return s;
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// The command as it was invoked (CLI11 names the app after argv[0]), so a repro line reads like the
// user's own: "build/apps/aiaccel validate ...", or "aiaccel validate ..." when found on PATH.
std::string invoked_as(const CLI::App* cmd) {
    const std::string name = cmd->get_parent() ? cmd->get_parent()->get_name() : "";
    return name.empty() ? std::string("aiaccel") : name;
}

std::string case_summary(const validate::Case& c) {
    if (!c.description.empty()) return c.description;
    return validate::stage_driver(c.stage).summary(c);
}

void print_row(const validate::ResultRow& r) {
    const bool cached =
        std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) { return n.rfind("reference output from the cache", 0) == 0; });
    fmt::print("{:<8} {:<10} {:<9} {:<4} {:<34} {:<12} {}{}{}\n", validate::to_string(r.verdict), r.stage, r.backend, r.precision, r.case_name,
               r.against, validate::result_text(r),
               r.verdict == validate::Verdict::skipped ? "" : fmt::format("  [{:.2f} s, {:.0f} MiB]", r.time_s, r.peak_rss_mib),
               cached ? " (reference cached)" : "");
    if (r.verdict == validate::Verdict::failed || r.verdict == validate::Verdict::mistrusted) {
        for (std::size_t i = 0; i < r.notes.size() && i < 4; ++i) fmt::print("         why:   {}\n", r.notes[i]);
        fmt::print("         repro: {}\n", r.repro);
        if (!r.artifacts.empty()) fmt::print("         dumps: {}\n", fmt::join(r.artifacts, " "));
    }
    std::fflush(stdout);
}

}  // namespace

// External candidates (validate/candidate_backend.hpp): one more backend each; null without --candidate.
std::unique_ptr<validate::CandidateSet> make_candidates(const Args& a) {
    if (!a.candidates.empty() || !a.candidate_bounds.empty()) {
        if (a.candidates.empty()) throw Error(ErrorKind::usage, "--candidate-bound: there is no --candidate to bound");
        std::vector<validate::CandidateSpec> specs;
        for (const auto& c : a.candidates) specs.push_back(validate::parse_candidate(c));
        validate::CandidateOptions copt;
        copt.timeout_s = a.candidate_timeout;
        for (const auto& b : a.candidate_bounds) copt.bounds.insert(validate::parse_candidate_bound(b));
        return std::make_unique<validate::CandidateSet>(std::move(specs), std::move(copt));
    }
    return nullptr;
}

// The closing summary (counts, skip reasons, where the rows are); the exit code.
int print_summary(const std::vector<validate::ResultRow>& rows, double wall, const fs::path& out, const std::string& self) {
    std::map<validate::Verdict, int> n;
    std::map<std::string, int> skips;
    for (const auto& r : rows) {
        ++n[r.verdict];
        if (r.verdict == validate::Verdict::skipped) ++skips[r.skip_reason.substr(0, r.skip_reason.find(" ("))];
    }
    fmt::print("\n{} PASSED, {} FAILED, {} MISTRUSTED, {} SKIPPED in {:.1f} s\n", n[validate::Verdict::passed], n[validate::Verdict::failed],
               n[validate::Verdict::mistrusted], n[validate::Verdict::skipped], wall);
    for (const auto& [why, count] : skips) fmt::print("  skipped {:>3}x: {}\n", count, why);
    fmt::print("rows: {}\nreport: {} report {} -o {}\n", (out / "rows.json").string(), quote(self), quote((out / "rows.json").string()),
               quote((out / "report").string()));
    // The plain closing line CI systems read.
    fmt::print("validate: {} passed, {} failed, {} skipped\n", n[validate::Verdict::passed], n[validate::Verdict::failed],
               n[validate::Verdict::skipped]);
    return n[validate::Verdict::failed] > 0 ? 1 : 0;
}

// The run of `aiaccel validate` (add_validate declares its options); the exit code.
int run_validate(const Args& a, bool backends_given, const std::string& self) {
    const auto t0 = std::chrono::steady_clock::now();
    const fs::path root = source_root();
    const fs::path testdata = env("AIACCEL_TESTDATA").empty() ? root / "testdata" : fs::path(env("AIACCEL_TESTDATA"));
    const fs::path cases_file = env("AIACCEL_CASES").empty() ? root / "validate" / "cases.json" : fs::path(env("AIACCEL_CASES"));
    const fs::path data_dir = a.data.empty() ? default_data_dir(root) : fs::path(a.data);
    if (!a.data.empty() && !fs::is_directory(data_dir)) throw file_error(ErrorKind::usage, a.data, "--data: no such folder");

    const std::unique_ptr<validate::CandidateSet> candidates = make_candidates(a);
    const std::vector<BackendEntry> registry = candidates
        ? candidates->registry(registry::all_backends())
        : std::vector<BackendEntry>(registry::all_backends().begin(), registry::all_backends().end());
    std::vector<std::string> names, all_names;
    for (const auto& b : registry::all_backends()) names.emplace_back(b.name);
    all_names = names;
    if (candidates)
        for (const auto& n : candidates->names()) all_names.push_back(n);
    std::vector<std::string> backends = a.backends == std::vector<std::string>{"all"} ? all_names : checked(a.backends, all_names, "--backends");
    if (candidates && !backends_given) backends = candidates->names();
    std::vector<std::string> stages = a.stages.empty() ? validate::stage_names() : checked(a.stages, validate::stage_names(), "--stages");
    if (candidates && a.stages.empty()) stages = candidates->stages();
    std::vector<std::string> precisions = checked(a.precisions, {"f64", "f32"}, "--precision");

    const validate::CaseList list = validate::load_case_list(cases_file, root, data_dir);
    if (a.list) {
        for (const auto& c : list.cases) fmt::print("{:<36} {:<10} {:<5} {}\n", c.name, c.stage, c.quick ? "quick" : "full", case_summary(c));
        return 0;
    }
    const auto cases = validate::select_cases(list, a.cases);
    std::optional<validate::Baseline> baseline;
    if (!a.baseline.empty()) baseline = validate::Baseline::load(a.baseline);
    const fs::path out(a.out);
    std::error_code ec;
    fs::create_directories(out, ec);
    if (!fs::is_directory(out)) throw file_error(ErrorKind::usage, a.out, "--out: cannot create the output folder");
    fs::remove_all(out / "failures", ec);  // dumps of an earlier run would be mistaken for this one's
    fs::remove_all(out / "images", ec);
    const fs::path cache_dir = a.no_cache ? fs::path() : a.cache.empty() ? default_cache_dir() : fs::path(a.cache);

    validate::RunOptions opt;
    opt.backends = backends;
    opt.stages = stages;
    opt.precisions = precisions;
    opt.preview_images = a.images;
    opt.out_dir = out;
    opt.repro_prefix = quote(self) + " validate" + (a.data.empty() ? "" : " --data " + quote(a.data)) +
        (a.baseline.empty() ? "" : " --baseline " + quote(a.baseline));
    opt.baseline = baseline ? &*baseline : nullptr;
    opt.log = [](const std::string& line) { fmt::print(stderr, "validate: {}\n", line); };
    opt.registry = registry;
    if (candidates) {
        opt.after_row = [c = candidates.get()](validate::ResultRow& row, Backend& be) { c->after_row(row, be); };
        opt.bounds = [c = candidates.get()](const validate::ResultRow& row, validate::Against against) { return c->bounds(row, against); };
    }

    fmt::print("aiaccel validate: {} cases ({}) · stages {} · backends {} · precision {}\n", cases.size(), fmt::join(a.cases, " "),
               fmt::join(stages, ","), fmt::join(backends, ","), fmt::join(precisions, ","));
    for (const auto& b : backends)
        for (const auto& e : registry)
            if (e.name == b) fmt::print("  {}\n", e.probe().reason);
    fmt::print("  goldens: {} · real files: {}, {} · cache: {}{}\n\n", (testdata / "golden").string(), (testdata / "aia").string(), data_dir.string(),
               cache_dir.empty() ? "off" : cache_dir.string(), baseline ? " · baseline: " + a.baseline : "");
    fmt::print("{:<8} {:<10} {:<9} {:<4} {:<34} {:<12} {}\n", "VERDICT", "STAGE", "BACKEND", "PREC", "CASE", "VS", "RESULT");

    validate::GoldenStore store(testdata, data_dir);
    validate::Runner runner(store, validate::ReferenceCache(cache_dir), opt);
    const auto rows = runner.run(cases, [quiet = a.quiet](const validate::ResultRow& r) {
        if (!quiet || r.verdict == validate::Verdict::failed || r.verdict == validate::Verdict::mistrusted) print_row(r);
    });
    if (rows.empty())
        throw Error(ErrorKind::usage,
                    "this selection gives no rows (the reference runs in f64 only; prep has no fast backends; "
                    "check --cases, --stages, --backends and --precision)");

    nlohmann::json doc = {{"command", "aiaccel validate"},
                          {"cases", a.cases},
                          {"aiaccel_version", AIACCEL_VERSION},
                          {"reference_code", validate::reference_code_version()},
                          {"wall_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
                          {"rows", nlohmann::json::array()}};
    for (const auto& r : rows) doc["rows"].push_back(validate::to_json(r));
    validate::report::write_file_atomic(out / "rows.json", doc.dump(1) + "\n");
    if (!a.junit.empty()) validate::report::write_file_atomic(a.junit, validate::junit_xml(rows, "aiaccel validate", doc["wall_s"].get<double>()));

    return print_summary(rows, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), out, self);
}

void add_validate(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("validate",
                                   "Validate every backend against the reference and the reference against real aiapy's goldens, case by case\n"
                                   "(validate/cases.json), judged with the tolerance table (validate/tolerances.cpp). Prints PASSED / FAILED /\n"
                                   "SKIPPED per case x stage x backend x precision, the command that reproduces each failure and FITS dumps of\n"
                                   "both outputs and their difference; writes OUT/rows.json for `aiaccel report OUT/rows.json -o OUT/report`.\n"
                                   "Exit code: 0 everything that ran passed, 1 something failed, 2 usage or input error.");
    auto a = std::make_shared<Args>();
    std::string backend_help = "Backends, comma-separated, or all:";
    for (const auto& b : registry::all_backends()) backend_help += fmt::format("\n  {:<10} {}", b.name, registry::help_status(b));
    add_fft_option(cmd);
    cmd->add_option("--backends", a->backends, backend_help)->delimiter(',')->default_str("all");
    cmd->add_option("--stages", a->stages, "Stages, comma-separated: psf, deconvolve, register, prep (default: all)")->delimiter(',');
    cmd->add_option("--precision", a->precisions, "Precisions, comma-separated: f64, f32 (the reference is float64 only)")
        ->delimiter(',')
        ->default_str("f64,f32");
    cmd->add_option("--cases", a->cases, "quick (CI, a few minutes on 2 cores), full (every case) or case names")
        ->delimiter(',')
        ->default_str("quick");
    cmd->add_option("--data", a->data, "Folder of extra real AIA files (default: $AIA_DATA_DIR, else ../shared/aia, else data/)");
    cmd->add_option("-o,--out", a->out, "Output folder: rows.json and failures/ (FITS dumps; replaced on every run)")->default_str("validate-out");
    cmd->add_option("--baseline", a->baseline,
                    "Rows of a clean run (reports/baseline.json): also fail when an error metric grew\n"
                    "more than 2x over its baseline value (and above a floor)");
    cmd->add_option("--cache", a->cache, "Folder of cached reference outputs (default: $AIACCEL_CACHE, else ~/.cache/aiaccel/validate)");
    cmd->add_flag("--no-cache", a->no_cache, "Recompute every reference output (nothing read from or written to the cache)");
    cmd->add_flag("--images", a->images,
                  "Also write 256-px previews of every compared output, its reference and their difference\n"
                  "to OUT/images/, so `aiaccel report` shows pictures for passing rows too");
    cmd->add_flag("--quiet", a->quiet,
                  "Print only the rows that FAILED or are MISTRUSTED (with their repro lines) and the summary;\n"
                  "every row is still in OUT/rows.json (CI uses this to keep its log short)");
    cmd->add_option("--candidate", a->candidates,
                    "NAME[:STAGE]='COMMAND {input} {output} ...': validate an external program like a backend (repeatable).\n"
                    "Placeholders: {input} {output} {psf} {iterations} {channel} {order} {missing} {precision} {preflight}\n"
                    "(validate/candidate_backend.hpp). Exit 1-127 = it refuses the input; a crash, timeout or missing output\n"
                    "is FAILED with the reason. Without --backends only the candidates run (--backends may list built-in and\n"
                    "candidate names); without --stages only their stages")
        ->take_all()
        ->allow_extra_args(false);
    cmd->add_option("--candidate-bound", a->candidate_bounds,
                    "STAGE=VALUE: judge the candidates' STAGE rows by max|Δ|/max <= VALUE (plus shape, NaN mask and refusals)\n"
                    "instead of the tolerance table (repeatable)");
    cmd->add_option("--candidate-timeout", a->candidate_timeout, "Seconds one candidate command may run before it is killed (FAILED)")
        ->default_str("600");
    cmd->add_option("--junit", a->junit, "Also write the rows as JUnit XML to this file (one testcase per row)");
    cmd->add_flag("--list", a->list, "List the cases (name, stage, quick or full only, description) and exit");
    cmd->callback([a, cmd, &exit_code] { exit_code = run_validate(*a, cmd->count("--backends") > 0, invoked_as(cmd)); });
}

}  // namespace aiaccel::cli
