// External candidates as backends (see candidate_backend.hpp).
#include "validate/candidate_backend.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "core/fits_io.hpp"

extern char** environ;

namespace aiaccel::validate {
namespace fs = std::filesystem;

namespace {

// The backend stage a candidate's stage name means (names as core/backend.hpp's to_string(Stage)).
std::optional<Stage> stage_named(std::string_view name) {
    for (Stage st : {Stage::psf, Stage::deconvolve, Stage::register_image})
        if (to_string(st) == name) return st;
    return std::nullopt;
}

// A failure of the command itself (crash, timeout, no or unreadable output). Not an aiaccel::Error, so
// the runner never takes it for a refusal or a missing input: the row is FAILED.
class CandidateFailure : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string shell_quote(const std::string& s) {
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+./:=,") == std::string::npos) return s;
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

bool has(std::string_view command, std::string_view placeholder) { return command.find(placeholder) != std::string_view::npos; }

std::string last_lines(const fs::path& file, std::size_t max_lines, std::size_t max_chars) {
    std::ifstream in(file, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (all.size() > 64 * 1024) all.erase(0, all.size() - 64 * 1024);
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < all.size()) {
        std::size_t end = all.find('\n', start);
        if (end == std::string::npos) end = all.size();
        std::string line = all.substr(start, end - start);
        for (char& ch : line)
            if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
        if (line.find_first_not_of(' ') != std::string::npos) lines.push_back(line);
        start = end + 1;
    }
    std::string out;
    for (std::size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i) out += (out.empty() ? "" : " | ") + lines[i];
    if (out.size() > max_chars) out = "..." + out.substr(out.size() - max_chars);
    return out;
}

std::string describe(const CommandResult& r, double timeout_s) {
    if (r.timed_out) return fmt::format("timed out after {:g} s (killed)", timeout_s);
    if (r.signalled) return fmt::format("crashed: killed by signal {} ({})", r.exit_status, strsignal(r.exit_status));
    if (r.exit_status >= 128)
        return fmt::format("crashed: exit status {} (a shell's report of signal {}, {})", r.exit_status, r.exit_status - 128,
                           strsignal(r.exit_status - 128));
    return fmt::format("exited with status {}", r.exit_status);
}

std::string num(double v) { return std::isnan(v) ? "nan" : fmt::format("{:.17g}", v); }

// The per-call working folder, removed when the call ends.
class TempDir {
public:
    explicit TempDir(const fs::path& root, const std::string& name) {
        std::error_code ec;
        const fs::path base = root.empty() ? fs::temp_directory_path(ec) : root;
        fs::create_directories(base, ec);
        std::string tmpl = (base / ("aiaccel-candidate-" + name + "-XXXXXX")).string();
        if (!::mkdtemp(tmpl.data()))
            throw CandidateFailure(fmt::format("cannot make a working folder under {}: {}", base.string(), std::strerror(errno)));
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// The largest peak resident memory (VmHWM, MiB) among the live processes of process group `pgid`. Read
// from /proc because wait4's ru_maxrss of the spawned shell also counts this process's memory (exec
// records the peak of the address space it replaces, which a vfork-style spawn shares with us).
double group_peak_mib(pid_t pgid) {
    double peak = 0;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream st(it->path() / "stat");
        std::string line;
        if (!std::getline(st, line)) continue;
        const auto rp = line.rfind(')');
        if (rp == std::string::npos) continue;
        char state = 0;
        long ppid = 0, pgrp = 0;
        if (std::sscanf(line.c_str() + rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3 || pgrp != pgid) continue;
        std::ifstream status(it->path() / "status");
        for (std::string l; std::getline(status, l);)
            if (l.rfind("VmHWM:", 0) == 0) peak = std::max(peak, std::strtod(l.c_str() + 6, nullptr) / 1024.0);
    }
    return peak;
}

class CandidateBackend;
const CandidateSet* g_set = nullptr;

}  // namespace

// ---- parsing --------------------------------------------------------------------------------------

std::string infer_stage(std::string_view command) {
    if (has(command, "{psf}") || has(command, "{iterations}")) return "deconvolve";
    if (has(command, "{channel}") && !has(command, "{input}")) return "psf";
    return "register";
}

CandidateSpec parse_candidate(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0)
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: expected NAME[:STAGE]='COMMAND {{input}} {{output}} ...'", text));
    CandidateSpec s;
    std::string head(text.substr(0, eq));
    s.command = std::string(text.substr(eq + 1));
    if (const auto colon = head.find(':'); colon != std::string::npos) {
        s.stage = head.substr(colon + 1);
        head.resize(colon);
    }
    s.name = head;
    if (s.name.empty() || s.name.size() > 40 ||
        s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != std::string::npos)
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: the name '{}' must be 1-40 letters, digits, '_', '-' or '.'", text, s.name));
    for (std::string_view builtin : {"reference", "cpu", "cuda", "all"})
        if (s.name == builtin) throw Error(ErrorKind::usage, fmt::format("--candidate {}: '{}' is a built-in backend's name", text, s.name));
    if (s.stage.empty()) s.stage = infer_stage(s.command);
    if (!stage_named(s.stage))
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: stage '{}': expected psf, deconvolve or register", text, s.stage));
    if (!has(s.command, "{output}"))
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: the command has no {{output}} (where it must write its result)", text));
    if (stage_named(s.stage) != Stage::psf && !has(s.command, "{input}"))
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: a {} command needs {{input}}", text, s.stage));
    return s;
}

std::pair<std::string, double> parse_candidate_bound(std::string_view text) {
    const auto eq = text.find('=');
    const std::string stage(text.substr(0, eq == std::string_view::npos ? 0 : eq));
    if (eq == std::string_view::npos || !stage_named(stage))
        throw Error(ErrorKind::usage, fmt::format("--candidate-bound {}: expected STAGE=VALUE with STAGE psf, deconvolve or register", text));
    const std::string value(text.substr(eq + 1));
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(v) || v < 0)
        throw Error(ErrorKind::usage, fmt::format("--candidate-bound {}: '{}' is not a finite bound ≥ 0", text, value));
    return {stage, v};
}

std::string expand_command(std::string_view command, const std::map<std::string, std::string>& values) {
    std::string out;
    for (std::size_t i = 0; i < command.size();) {
        if (command[i] == '{') {
            const auto close = command.find('}', i);
            if (close != std::string_view::npos) {
                const auto it = values.find(std::string(command.substr(i + 1, close - i - 1)));
                if (it != values.end()) {
                    out += shell_quote(it->second);
                    i = close + 1;
                    continue;
                }
            }
        }
        out += command[i++];
    }
    return out;
}

// ---- running a command ----------------------------------------------------------------------------

CommandResult run_command(const std::string& command, const fs::path& dir, double timeout_s) {
    CommandResult r;
    const std::string log = fs::absolute(dir / "log").string();  // opened after the chdir
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    const std::string dir_s = dir.string();
    posix_spawn_file_actions_addchdir_np(&fa, dir_s.c_str());
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_setpgroup(&attr, 0);
    // The child starts with default signal dispositions and an empty mask, whatever this process set.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    pid_t pid = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw Error(ErrorKind::internal, fmt::format("cannot start /bin/sh for a candidate: {}", std::strerror(rc)));

    int status = 0;
    rusage ru{};
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    auto sleep_step = std::chrono::microseconds(500);
    for (;;) {
        r.peak_rss_mib = std::max(r.peak_rss_mib, group_peak_mib(pid));
        const pid_t w = ::wait4(pid, &status, WNOHANG, &ru);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) throw Error(ErrorKind::internal, fmt::format("waiting for a candidate: {}", std::strerror(errno)));
        if (elapsed() > timeout_s) {
            r.timed_out = true;
            ::kill(-pid, SIGTERM);
            const auto t_term = std::chrono::steady_clock::now();
            while (::wait4(pid, &status, WNOHANG, &ru) != pid) {
                if (std::chrono::steady_clock::now() - t_term > std::chrono::seconds(2)) {
                    ::kill(-pid, SIGKILL);
                    while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            break;
        }
        std::this_thread::sleep_for(sleep_step);
        sleep_step = std::min(sleep_step * 2, std::chrono::microseconds(10000));
    }
    r.wall_s = elapsed();
    ::kill(-pid, SIGKILL);  // whatever the command left running in its group
    if (!r.timed_out) {
        if (WIFSIGNALED(status)) {
            r.signalled = true;
            r.exit_status = WTERMSIG(status);
        } else {
            r.exit_status = WEXITSTATUS(status);
        }
    }
    r.log_tail = last_lines(log, 3, 400);
    return r;
}

// ---- the backend ----------------------------------------------------------------------------------

namespace {

// What the last call of a candidate did, for the runner's after_row hook.
struct LastCall {
    bool ran = false;
    CommandResult result;
    std::string failure;  // why the row failed because of the command itself ("" when it did not)
    double io_s = 0;  // writing the input and reading the output
};

class CandidateBackend final : public Backend, public InputHeaderSink {
public:
    CandidateBackend(const CandidateSpec& spec, const CandidateOptions& opt) : spec_(spec), opt_(opt) {}
    std::string_view name() const override { return spec_.name; }
    bool supports(Precision p) const override { return p == Precision::f64 || has(spec_.command, "{precision}"); }
    const LastCall& last() const { return last_; }
    void next_input_header(const FitsHeader& h) override { header_ = h; }

    Image<double> psf(const PsfRequest& req, const StageOptions& so) override {
        need_stage("psf");
        if (req.use_preflight_core && !has(spec_.command, "{preflight}"))
            throw Error(ErrorKind::not_implemented,
                        fmt::format("candidate {}: its command has no {{preflight}} for the pre-flight core PSF", spec_.name));
        TempDir dir(opt_.temp_root, spec_.name);
        auto values = common(dir, so);
        values["channel"] = std::to_string(req.channel);
        values["preflight"] = req.use_preflight_core ? "1" : "0";
        return read_image(run(dir, values, 0));
    }

    Image<double> deconvolve(const Image<double>& img, const Image<double>& psf, const DeconvolveRequest& req, const StageOptions& so) override {
        const FitsHeader header = std::exchange(header_, FitsHeader{});
        need_stage("deconvolve");
        TempDir dir(opt_.temp_root, spec_.name);
        auto values = common(dir, so);
        const auto t0 = std::chrono::steady_clock::now();
        write_input(dir.path() / "input.fits", img, header, PixelType::f64);
        values["input"] = (dir.path() / "input.fits").string();
        if (has(spec_.command, "{psf}")) {
            write_input(dir.path() / "psf.fits", psf, FitsHeader{}, PixelType::f64);
            values["psf"] = (dir.path() / "psf.fits").string();
        }
        values["iterations"] = std::to_string(req.iterations);
        values["channel"] = num(header.get_double("WAVELNTH").value_or(0));
        return read_image(run(dir, values, seconds_since(t0)));
    }

    AiaImage register_image(const AiaImage& img, const RegisterRequest& req, const StageOptions& so) override {
        need_stage("register");
        TempDir dir(opt_.temp_root, spec_.name);
        auto values = common(dir, so);
        const auto t0 = std::chrono::steady_clock::now();
        const PixelType dtype = img.dtype == PixelType::f32 ? PixelType::f32 : img.dtype == PixelType::i16 ? PixelType::i16 : PixelType::f64;
        write_input(dir.path() / "input.fits", img.data, img.header, dtype);
        values["input"] = (dir.path() / "input.fits").string();
        values["order"] = std::to_string(req.order);
        double missing = NAN;
        if (req.missing) {
            missing = *req.missing;
        } else {
            for (double v : img.data.pixels())
                if (!std::isnan(v) && !(v >= missing)) missing = v;
        }
        values["missing"] = num(missing);
        values["channel"] = num(img.header.get_double("WAVELNTH").value_or(0));
        const fs::path out = run(dir, values, seconds_since(t0));
        const auto t1 = std::chrono::steady_clock::now();
        FitsImage f = read_output(out);
        last_.io_s += seconds_since(t1);
        return AiaImage{out.string(), f.dtype, std::move(f.header), std::move(f.data)};
    }

private:
    static double seconds_since(std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    }
    void need_stage(std::string_view stage) {
        last_ = {};
        if (spec_.stage != stage) throw Error(ErrorKind::not_implemented, fmt::format("candidate {} is a {} candidate", spec_.name, spec_.stage));
    }
    std::map<std::string, std::string> common(const TempDir& dir, const StageOptions& so) const {
        return {{"output", (dir.path() / "output.fits").string()}, {"precision", std::string(to_string(so.precision))}};
    }
    void write_input(const fs::path& path, const Image<double>& img, const FitsHeader& h, PixelType dtype) {
        WriteOptions wo;
        wo.dtype = dtype;
        wo.add_history = false;
        try {
            write_fits(path, img, h, wo);
        } catch (const std::exception& e) {  // ours, not the candidate's: never a refusal
            last_.failure = fmt::format("could not write the command's input: {}", e.what());
            throw CandidateFailure(last_.failure);
        }
    }
    // Runs the command; returns the output path, or throws: Error(bad_value) for a refusal (exit 1-127),
    // CandidateFailure for a crash, a timeout or no output.
    fs::path run(const TempDir& dir, const std::map<std::string, std::string>& values, double io_s) {
        last_.io_s = io_s;
        const std::string cmd = expand_command(spec_.command, values);
        last_.result = run_command(cmd, dir.path(), opt_.timeout_s);
        last_.ran = true;
        const CommandResult& r = last_.result;
        const std::string tail = r.log_tail.empty() ? "" : ": " + r.log_tail;
        if (r.timed_out || r.signalled || r.exit_status >= 128) {
            last_.failure = describe(r, opt_.timeout_s) + tail;
            throw CandidateFailure(last_.failure);
        }
        if (r.exit_status != 0) throw Error(ErrorKind::bad_value, fmt::format("candidate {} {}{}", spec_.name, describe(r, opt_.timeout_s), tail));
        const fs::path out = values.at("output");
        std::error_code ec;
        if (!fs::exists(out, ec)) {
            last_.failure = "exited with status 0 but wrote nothing at {output}" + tail;
            throw CandidateFailure(last_.failure);
        }
        return out;
    }
    FitsImage read_output(const fs::path& out) {
        try {
            return read_fits(out.string(), {.verify_checksum = true, .refuse_mismatch = true});
        } catch (const std::exception& e) {
            last_.failure = fmt::format("wrote an unreadable {{output}}: {}", e.what());
            throw CandidateFailure(last_.failure);
        }
    }
    Image<double> read_image(const fs::path& out) {
        const auto t1 = std::chrono::steady_clock::now();
        FitsImage f = read_output(out);
        last_.io_s += seconds_since(t1);
        return std::move(f.data);
    }

    const CandidateSpec& spec_;
    const CandidateOptions& opt_;
    LastCall last_;
    FitsHeader header_;  // the next deconvolve input's header (InputHeaderSink), else none
};

// Plain function pointers for the BackendEntry of the I-th candidate.
constexpr std::size_t kMaxCandidates = 16;
template <std::size_t I>
Availability probe_nth() {
    if (!g_set || I >= g_set->specs().size()) return {false, "candidate: not defined"};
    const CandidateSpec& s = g_set->specs()[I];
    return {true, fmt::format("{}: external {} candidate: {}", s.name, s.stage, s.command)};
}
template <std::size_t I>
std::unique_ptr<Backend> make_nth();
template <std::size_t... I>
constexpr auto entry_fns(std::index_sequence<I...>) {
    return std::array<std::pair<Availability (*)(), std::unique_ptr<Backend> (*)()>, sizeof...(I)>{{{&probe_nth<I>, &make_nth<I>}...}};
}

}  // namespace

// make_nth finds its spec and the options through the one live set.
namespace {
const CandidateOptions* g_opt = nullptr;
template <std::size_t I>
std::unique_ptr<Backend> make_nth() {
    if (!g_set || !g_opt || I >= g_set->specs().size()) throw Error(ErrorKind::internal, "candidate: not defined");
    return std::make_unique<CandidateBackend>(g_set->specs()[I], *g_opt);
}
}  // namespace

CandidateSet::CandidateSet(std::vector<CandidateSpec> specs, CandidateOptions opt) : specs_(std::move(specs)), opt_(std::move(opt)) {
    if (g_set) throw Error(ErrorKind::internal, "only one set of candidates at a time");
    if (specs_.size() > kMaxCandidates) throw Error(ErrorKind::usage, fmt::format("--candidate: at most {} candidates per run", kMaxCandidates));
    for (std::size_t i = 0; i < specs_.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (specs_[i].name == specs_[j].name)
                throw Error(ErrorKind::usage, fmt::format("--candidate: the name '{}' is given twice", specs_[i].name));
    if (!(opt_.timeout_s > 0)) throw Error(ErrorKind::usage, "--candidate-timeout: expected seconds > 0");
    for (const auto& [stage, value] : opt_.bounds) {
        const std::string& reason = bound_texts_.emplace_back(
            fmt::format("named on the command line (--candidate-bound {}={:g}): replaces the tolerance table's numeric bounds "
                        "for the candidates' {} rows; shape, NaN mask and refusals are still checked",
                        stage, value, stage));
        const std::string& st = bound_texts_.emplace_back(stage);
        user_bounds_.push_back(std::make_unique<Tolerance>(Tolerance{st, "max_abs_over_max", Against::any, "*", "*", value, reason}));
    }
    g_set = this;
    g_opt = &opt_;
}

CandidateSet::~CandidateSet() {
    g_set = nullptr;
    g_opt = nullptr;
}

std::vector<std::string> CandidateSet::names() const {
    std::vector<std::string> v;
    for (const auto& s : specs_) v.push_back(s.name);
    return v;
}

std::vector<std::string> CandidateSet::stages() const {
    std::vector<std::string> v;
    for (const auto& s : specs_)
        if (std::find(v.begin(), v.end(), s.stage) == v.end()) v.push_back(s.stage);
    return v;
}

std::vector<BackendEntry> CandidateSet::registry(std::span<const BackendEntry> builtin) const {
    static constexpr auto fns = entry_fns(std::make_index_sequence<kMaxCandidates>{});
    std::vector<BackendEntry> v(builtin.begin(), builtin.end());
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        Capabilities caps;  // its own stage only, every precision and order (the command decides); one call at a time
        const std::optional<Stage> stage = stage_named(specs_[i].stage);
        caps.psf.provided = stage == Stage::psf;
        caps.deconvolve.provided = stage == Stage::deconvolve;
        caps.register_image.provided = stage == Stage::register_image;
        caps.psf.preflight_core = has(specs_[i].command, "{preflight}");
        v.push_back({specs_[i].name, "external candidate", fns[i].first, fns[i].second, caps});
    }
    return v;
}

std::string CandidateSet::repro_options(const CandidateSpec& c) const {
    std::string s = " --candidate " + shell_quote(c.name + ":" + c.stage + "=" + c.command);
    if (const auto b = opt_.bounds.find(c.stage); b != opt_.bounds.end()) s += fmt::format(" --candidate-bound {}={:g}", b->first, b->second);
    if (opt_.timeout_s != CandidateOptions{}.timeout_s) s += fmt::format(" --candidate-timeout {:g}", opt_.timeout_s);
    return s;
}

const CandidateSpec* CandidateSet::find(std::string_view name) const {
    for (const auto& s : specs_)
        if (s.name == name) return &s;
    return nullptr;
}

void CandidateSet::after_row(ResultRow& row, Backend& be) const {
    const CandidateSpec* spec = find(row.backend);
    auto* cb = dynamic_cast<CandidateBackend*>(&be);
    if (!spec || !cb) return;
    // The repro line brings back this candidate (and its bound and timeout) only.
    if (const auto pos = row.repro.find(" validate"); pos != std::string::npos) row.repro.insert(pos + 9, repro_options(*spec));
    const LastCall& last = cb->last();
    if (!last.failure.empty()) {
        // The runner named it an internal error: it is the candidate's.
        for (auto& n : row.notes)
            if (n.rfind("internal error: ", 0) == 0) n = "candidate failed: " + n.substr(16);
    }
    if (!last.ran) return;
    row.time_s = last.result.wall_s;
    row.peak_rss_mib = last.result.peak_rss_mib;
    row.extra.emplace_back("candidate_io_s", last.io_s);
    row.notes.push_back(
        fmt::format("candidate {} ({}): {} in {:.3f} s, peak {:.0f} MiB (time and memory are the command's; "
                    "writing its input and reading its output took {:.3f} s more)",
                    spec->name, spec->command, last.failure.empty() && !last.result.exit_status ? "ran" : describe(last.result, opt_.timeout_s),
                    last.result.wall_s, last.result.peak_rss_mib, last.io_s));
}

std::optional<std::vector<const Tolerance*>> CandidateSet::bounds(const ResultRow& row, Against against) const {
    if (!find(row.backend)) return std::nullopt;
    const Tolerance* user = nullptr;
    for (const auto& t : user_bounds_)
        if (t->stage == row.stage) user = t.get();
    if (!user) return std::nullopt;
    std::vector<const Tolerance*> v;
    for (const Tolerance* t : tolerances_for(row.stage, against, row.backend, row.precision))
        if (t->stage == "*" && t->metric != "dtype_mismatch_max") v.push_back(t);  // structural rows, less the dtype
    v.push_back(user);
    return v;
}

}  // namespace aiaccel::validate
