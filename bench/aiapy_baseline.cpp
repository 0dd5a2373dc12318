// Running tools/oracle/bench_aiapy.py under an oracle venv and turning its JSON into speed rows.
#include "bench/aiapy_baseline.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "aiaccel_config.hpp"
#include "bench/bench_inputs.hpp"
#include "bench/bench_runner.hpp"
#include "bench/bench_stages.hpp"
#include "core/strings.hpp"

namespace aiaccel::bench {
namespace fs = std::filesystem;
using nlohmann::json;
using validate::ResultRow;
using validate::Verdict;

namespace {

fs::path source_root() {
    const char* r = std::getenv("AIACCEL_ROOT");
    return r && *r ? fs::path(r) : fs::path(AIACCEL_SOURCE_ROOT);
}

// Runs argv[0] with argv, stdout to `log`, stderr inherited (the script's progress lines). Exit status.
int run_process(const std::vector<std::string>& argv, const fs::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, STDOUT_FILENO), close(fd);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::vector<std::pair<std::string, std::string>> stage_cases_for(const std::vector<std::string>& stages) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& s : stages)
        for (const auto& c : stage_cases(s)) out.emplace_back(s, c);
    return out;
}

ResultRow aiapy_row(const std::string& backend, const std::string& stage, const std::string& case_name, const validate::MachineInfo& machine) {
    ResultRow r;
    r.kind = "speed";
    r.stage = stage;
    r.backend = backend;
    r.precision = "f64";
    r.case_name = case_name;
    r.machine = machine;
    r.repro = fmt::format("aiaccel bench --stages {} --backends cpu --baseline-aiapy --aiapy-versions {} --aiapy-stages {}", stage, backend.substr(6),
                          stage);
    for (auto& ch : r.repro)
        if (ch == '+') ch = '-';  // aiapy-0.12.1+jax <- --aiapy-versions 0.12.1-jax
    r.extra.emplace_back("threads", 1);
    return r;
}

}  // namespace

std::string aiapy_backend_name(const std::string& version) {
    std::string v = version;
    if (auto dash = v.find('-'); dash != std::string::npos) v[dash] = '+';
    return "aiapy-" + v;
}

fs::path aiapy_venv(const fs::path& oracle_dir, const std::string& version) { return oracle_dir / ("venv-" + version); }

// The venv as a row names it: relative to the source tree when inside it (".oracle/venv-0.10.2"), so
// committed reports carry no machine's absolute paths; otherwise as given.
static std::string venv_label(const fs::path& venv) {
    std::error_code ec;
    const fs::path rel = fs::relative(venv, AIACCEL_SOURCE_ROOT, ec);
    return !ec && !rel.empty() && *rel.begin() != ".." ? rel.string() : venv.string();
}

fs::path bench_aiapy_script() { return source_root() / "tools" / "oracle" / "bench_aiapy.py"; }

std::vector<ResultRow> run_aiapy(const AiapyRequest& req, const validate::MachineInfo& machine) {
    const std::string backend = aiapy_backend_name(req.version);
    const fs::path venv = aiapy_venv(req.oracle_dir, req.version);
    const fs::path python = venv / "bin" / "python";
    std::vector<ResultRow> rows;
    auto all = [&](Verdict v, const std::string& why) {
        for (const auto& [stage, c] : stage_cases_for(req.stages)) {
            rows.push_back(aiapy_row(backend, stage, c, machine));
            rows.back().verdict = v;
            (v == Verdict::skipped ? rows.back().skip_reason : rows.back().notes.emplace_back()) = why;
        }
        return rows;
    };
    std::error_code ec;
    if (!fs::exists(python, ec)) {
        const std::string mode = req.version == "0.12.1-jax" ? "jax" : "all";
        if (req.log)
            req.log(
                fmt::format("aiapy {}: no oracle venv at {}; install it with `tools/oracle/setup {}` (speed ratios against the "
                            "reference only until then)",
                            req.version, venv.string(), mode));
        return all(Verdict::skipped, fmt::format("{}: oracle venv {} not installed (tools/oracle/setup {})", backend, venv.string(), mode));
    }
    const fs::path json_out = req.out_dir / fmt::format("aiapy-{}.json", req.version);
    const fs::path log = req.out_dir / fmt::format("aiapy-{}.log", req.version);
    fs::remove(json_out, ec);
    std::string stages;
    for (const auto& s : req.stages) append_joined(stages, ",", s);
    std::vector<std::string> argv = {python.string(),
                                     bench_aiapy_script().string(),
                                     "--flavour",
                                     req.version,
                                     "--stages",
                                     stages,
                                     "--psf",
                                     req.psf_fits.string(),
                                     "--input",
                                     req.real_fits.string(),
                                     "--expect-derived-sha256",
                                     req.derived_sha256,
                                     "--repetitions",
                                     std::to_string(req.repetitions),
                                     "--max-warmup-s",
                                     fmt::format("{}", req.max_warmup_s),
                                     "--out",
                                     json_out.string()};
    if (req.log) req.log(fmt::format("timing aiapy {} ({}) on {}: {} (stdout: {})", req.version, venv.string(), stages, argv[1], log.string()));
    const int rc = run_process(argv, log);
    json doc;
    try {
        std::ifstream in(json_out);
        if (!in) throw std::runtime_error("no JSON written");
        doc = json::parse(in);
    } catch (const std::exception& e) {
        return all(Verdict::failed, fmt::format("{}: tools/oracle/bench_aiapy.py exited {} ({}); see {}", backend, rc, e.what(), log.string()));
    }
    std::string env_note =
        fmt::format("aiapy {} in {} (python {}, numpy {}, scipy {}{}); {}", doc.value("aiapy_version", "?"), venv_label(venv),
                    doc.value("python", "?"), doc.value("numpy", "?"), doc.value("scipy", "?"),
                    doc.value("accelerator", "none") == "none" ? "" : ", accelerator " + doc.value("accelerator", ""), doc.value("threads_note", ""));
    for (const auto& res : doc.value("results", json::array())) {
        ResultRow r = aiapy_row(backend, res.value("stage", ""), res.value("case", ""), machine);
        if (r.case_name == kDerivedCase) r.input_sha256 = res.value("input_sha256", "");
        if (res.contains("error") && !res["error"].is_null()) {
            r.verdict = Verdict::failed;
            r.notes.push_back(fmt::format("aiapy raised: {}", res["error"].get<std::string>()));
        } else {
            Measurement m;
            m.time_s = res.value("time_s", 0.0);
            m.min_s = res.value("min_s", 0.0);
            m.max_s = res.value("max_s", 0.0);
            m.warmup_s = res.value("warmup_s", 0.0);
            m.runs = res.value("runs", 0);
            r.verdict = Verdict::passed;
            r.time_s = m.time_s;
            r.peak_rss_mib = res.value("peak_rss_mib", 0.0);
            r.extra.emplace_back("pixels_per_s", res.value("pixels", 0.0) / m.time_s);
            r.extra.emplace_back("runs", m.runs);
            r.extra.emplace_back("min_s", m.min_s);
            r.extra.emplace_back("max_s", m.max_s);
            r.extra.emplace_back("warmup_s", m.warmup_s);
            r.notes.push_back(timing_note(m, req.repetitions, "lazy imports, JAX compilation, first-touch pages"));
        }
        for (const auto& n : res.value("notes", json::array())) r.notes.push_back(n.get<std::string>());
        r.notes.push_back(env_note);
        rows.push_back(std::move(r));
    }
    if (rows.empty()) return all(Verdict::failed, fmt::format("{}: bench_aiapy.py wrote no results; see {}", backend, log.string()));
    return rows;
}

}  // namespace aiaccel::bench
