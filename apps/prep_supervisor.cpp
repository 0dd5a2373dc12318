// Crash isolation of `aiaccel prep` (prep_pipeline.hpp): the worker process's crash handler and pipe
// protocol, and the supervisor that runs workers, forwards stop signals, and fails a crashing input alone.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <mutex>

#include "apps/prep_pipeline.hpp"
#include "apps/prep_progress.hpp"
#include "apps/prep_signals.hpp"
#include "apps/prep_worker.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"

namespace aiaccel::cli::prep {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);
// What this thread works on, for the crash handler (static TLS of the executable: plain memory).
thread_local std::size_t tl_index = kNoSlot;
thread_local int tl_stage = 0;
int g_crash_fd = -1;
std::atomic<int> g_crashed{0};

// Async-signal-safe: formats "C <index> <stage> <signal>\n" by hand, one write() (< PIPE_BUF, atomic),
// then lets the signal kill the process as it would have (SA_RESETHAND: default action on re-raise).
void on_crash(int sig) {
    int expected = 0;
    if (g_crash_fd >= 0 && tl_index != kNoSlot && g_crashed.compare_exchange_strong(expected, 1)) {
        char buf[64], tmp[24];
        int n = 0;
        auto put_num = [&](unsigned long long v) {
            int k = 0;
            do tmp[k++] = static_cast<char>('0' + v % 10), v /= 10;
            while (v);
            while (k) buf[n++] = tmp[--k];
        };
        buf[n++] = 'C', buf[n++] = ' ';
        put_num(tl_index), buf[n++] = ' ';
        put_num(static_cast<unsigned>(tl_stage)), buf[n++] = ' ';
        put_num(static_cast<unsigned>(sig)), buf[n++] = '\n';
        [[maybe_unused]] auto w = ::write(g_crash_fd, buf, n);
    }
    ::raise(sig);
}

std::string stage_word(int stage) {
    return stage == kDecode ? "decoder" : stage == kCompute ? "compute stage" : stage == kWrite ? "writer" : "worker";
}

}  // namespace

StageScope::StageScope(std::size_t index, int stage) { tl_index = index, tl_stage = stage; }
StageScope::~StageScope() { tl_index = kNoSlot, tl_stage = 0; }

void maybe_test_crash(const std::string& input) {
    static const char* target = std::getenv("AIACCEL_TEST_CRASH_ON");
    if (target && *target && fs::path(input).filename() == target) ::raise(SIGSEGV);
}

void write_all(int fd, const std::string& s) {
    for (std::size_t off = 0; off < s.size();) {
        const ssize_t w = ::write(fd, s.data() + off, s.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;  // the supervisor is gone; SIGPIPE or PDEATHSIG ends us
        off += static_cast<std::size_t>(w);
    }
}

WorkerLink parse_worker_link(const std::string& spec) {
    WorkerLink l;
    if (std::sscanf(spec.c_str(), "%d,%d,%d,%d", &l.in, &l.out, &l.crash, &l.round) != 4 || l.in < 0 || l.out < 0 || l.crash < 0)
        throw Error(ErrorKind::usage, "--internal-worker: expected IN,OUT,CRASH,ROUND (set by aiaccel prep itself)");
    return l;
}

namespace {

std::string to_hex(const std::string& s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string h;
    for (unsigned char c : s) h += hex[c >> 4], h += hex[c & 15];
    return h;
}

std::string from_hex(std::string_view h) {
    std::string s;
    auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) s += static_cast<char>(v(h[i]) * 16 + v(h[i + 1]));
    return s;
}

}  // namespace

void read_worker_assignment(const WorkerLink& l, std::vector<WorkItem>& work, std::set<std::string>& claimed, std::set<std::size_t>& retried) {
    std::string all;
    char buf[65536];
    for (;;) {
        const ssize_t r = ::read(l.in, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        all.append(buf, static_cast<std::size_t>(r));
    }
    ::close(l.in);
    std::size_t pos = 0;
    while (pos < all.size()) {  // "I <index> <hex path>" / "O <hex output>": paths travel byte for byte
        std::size_t end = all.find('\n', pos);
        if (end == std::string::npos) end = all.size();
        const std::string line = all.substr(pos, end - pos);
        pos = end + 1;
        if (line.starts_with("I ")) {
            const auto sp = line.find(' ', 2);
            if (sp != std::string::npos) work.push_back({std::stoull(line.substr(2, sp - 2)), from_hex(std::string_view(line).substr(sp + 1))});
        } else if (line.starts_with("O ")) {
            claimed.insert(from_hex(std::string_view(line).substr(2)));
        } else if (line.starts_with("R ")) {
            retried.insert(std::stoull(line.substr(2)));
        }
    }
}

BatchHooks worker_hooks(const WorkerLink& l, const std::string& backend_name) {
    g_crash_fd = l.crash;
    struct sigaction sa {};
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT}) ::sigaction(sig, &sa, nullptr);
    write_all(l.out, "K " + nlohmann::json(backend_name).dump() + "\n");
    auto out_mutex = std::make_shared<std::mutex>();
    const int out = l.out;
    BatchHooks h;
    h.started = [out, out_mutex](std::size_t index) {
        std::lock_guard lock(*out_mutex);
        write_all(out, fmt::format("B {}\n", index));
    };
    h.finished = [out, out_mutex](const ManifestEntry& e) {
        const std::string line = "E " + to_json(e).dump() + "\n";
        std::lock_guard lock(*out_mutex);
        write_all(out, line);
    };
    return h;
}

// --- crash isolation: the supervisor side ------------------------------------------------------
namespace {

// The arguments this process was started with (the worker is the same command plus --internal-worker).
std::vector<std::string> own_argv() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::vector<std::string> args;
    for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
    return args;
}

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(ErrorKind::internal, fmt::format("prep: cannot create a pipe: {}", std::strerror(errno)));
        r = fds[0], w = fds[1];
    }
    ~Pipe() { close_r(), close_w(); }
    void close_r() {
        if (r >= 0) ::close(r), r = -1;
    }
    void close_w() {
        if (w >= 0) ::close(w), w = -1;
    }
};

}  // namespace

namespace {

// One supervised batch: rounds of worker processes until every input has its entry (or a stop signal).
class Supervisor {
public:
    Supervisor(const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m)
        : work_(work), bs_(bs), m_(m), n_(work.size()), done_(n_, false), outputs_(n_), progress_(n_) {
        m_.entries.assign(n_, {});
        for (std::size_t i = 0; i < n_; ++i) {
            m_.entries[i].index = work[i].index;
            m_.entries[i].input = work[i].input;
            slot_of_[work[i].index] = i;
        }
        args_ = own_argv();
        auto at = std::find(args_.begin(), args_.end(), "prep");
        if (args_.empty() || at == args_.end())
            throw Error(ErrorKind::internal, "prep: cannot read this process's command line (/proc/self/cmdline)");
        prep_at_ = static_cast<std::size_t>(at - args_.begin());
    }
    Supervised run();

private:
    struct Round {  // what one worker process reported
        std::set<std::size_t> inflight;
        bool ready = false;
        std::size_t finished = 0;
    };
    std::vector<std::size_t> next_part();
    pid_t start_worker(Pipe& in, Pipe& out, Pipe& crash, int round);
    void send_assignment(Pipe& in, const std::vector<std::size_t>& part);
    Round read_reports(Pipe& out, pid_t pid);
    void handle_line(const std::string& line, Round& r);
    bool after_worker(pid_t pid, int st, const std::string& crash_line, Round& r, const std::vector<std::size_t>& part);
    void refresh();
    void mark_failed(std::size_t slot, const std::string& why, const std::string& kind);
    std::array<std::size_t, 3> counts() const {
        std::size_t c[4] = {0, 0, 0, 0};
        for (const auto& e : m_.entries) ++c[static_cast<int>(e.status)];
        return {c[0], c[1], c[2]};
    }
    static double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

    const std::vector<WorkItem>& work_;
    const BatchSettings& bs_;
    Manifest& m_;
    const std::size_t n_;
    std::map<std::size_t, std::size_t> slot_of_;  // list index → slot
    std::vector<std::string> args_;
    std::size_t prep_at_ = 0;
    StopSignals signals_;  // SIGINT/SIGTERM/SIGHUP: forwarded to the worker; then the run ends as interrupted
    Supervised result_;
    std::vector<bool> done_;
    std::vector<std::string> outputs_;  // outputs claimed by finished inputs, for the next worker
    std::set<std::size_t> retry_;  // in flight when a worker died: their output may be that worker's
    std::set<std::size_t> solo_;  // suspects of a crash nobody claimed: run one per worker
    BatchProgress progress_;
    Clock::time_point t_start_ = Clock::now(), last_manifest_ = Clock::now();
};

void Supervisor::mark_failed(std::size_t slot, const std::string& why, const std::string& kind) {
    auto& e = m_.entries[slot];
    e.status = Status::failed;
    e.reason = e.input + ": " + why;
    e.error_kind = kind;
    done_[slot] = true;
    progress_.log("prep: FAILED " + escape_control(e.reason));
}

std::vector<std::size_t> Supervisor::next_part() {
    std::vector<std::size_t> part;
    if (!solo_.empty()) {
        part.push_back(*solo_.begin());
        solo_.erase(solo_.begin());
    } else {
        for (std::size_t i = 0; i < n_; ++i)
            if (!done_[i]) part.push_back(i);
    }
    return part;
}

// fork + exec of /proc/self/exe with this command line plus --internal-worker (a fresh process image).
pid_t Supervisor::start_worker(Pipe& in, Pipe& out, Pipe& crash, int round) {
    std::vector<std::string> wargs(args_.begin(), args_.begin() + static_cast<long>(prep_at_) + 1);
    wargs.push_back(fmt::format("--internal-worker={},{},{},{}", in.r, out.w, crash.w, round));
    wargs.insert(wargs.end(), args_.begin() + static_cast<long>(prep_at_) + 1, args_.end());
    std::vector<char*> argv;
    for (auto& a : wargs) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(ErrorKind::internal, fmt::format("prep: cannot start a worker process: {}", std::strerror(errno)));
    if (pid == 0) {  // the worker: async-signal-safe calls only until exec
        ::fcntl(in.r, F_SETFD, 0), ::fcntl(out.w, F_SETFD, 0), ::fcntl(crash.w, F_SETFD, 0);
        for (int fd : bs_.lock_fds) ::fcntl(fd, F_SETFD, 0);
        signals_.restore_in_child();
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(1);
        ::execv("/proc/self/exe", argv.data());
        ::_exit(127);
    }
    in.close_r(), out.close_w(), crash.close_w();
    return pid;
}

// The assignment: list indices, the outputs earlier workers already claimed, the inputs to retry.
void Supervisor::send_assignment(Pipe& in, const std::vector<std::size_t>& part) {
    std::string a;
    for (std::size_t slot : part) a += fmt::format("I {} {}\n", work_[slot].index, to_hex(work_[slot].input));
    for (std::size_t i = 0; i < n_; ++i)
        if (done_[i] && !outputs_[i].empty()) a += "O " + to_hex(outputs_[i]) + "\n";
    for (std::size_t slot : retry_) a += fmt::format("R {}\n", work_[slot].index);
    write_all(in.w, a);
    in.close_w();
}

void Supervisor::handle_line(const std::string& line, Round& r) {
    try {
        if (line.starts_with("K ")) {
            r.ready = true;
            m_.backend = nlohmann::json::parse(line.substr(2)).get<std::string>();
        } else if (line.starts_with("B ")) {
            if (auto it = slot_of_.find(std::stoull(line.substr(2))); it != slot_of_.end()) r.inflight.insert(it->second);
        } else if (line.starts_with("E ")) {
            ManifestEntry e = entry_from_json(nlohmann::json::parse(line.substr(2)), "prep worker");
            if (auto it = slot_of_.find(e.index); it != slot_of_.end()) {
                e.input = m_.entries[it->second].input;  // the exact path (the record escapes it)
                if (!e.output.empty() && e.status != Status::failed)
                    outputs_[it->second] = fs::path(bs_.outdir / fs::path(e.output).filename()).string();
                m_.entries[it->second] = std::move(e);
                done_[it->second] = true;
                r.inflight.erase(it->second);
                ++r.finished;
            }
        }
    } catch (const std::exception&) {  // a garbled line: that input counts as unreported
    }
}

// Progress, and the manifest rewritten every manifest_every_s.
void Supervisor::refresh() {
    const auto c = counts();
    progress_.update(c[0], c[1], c[2]);
    if (since(last_manifest_) < bs_.manifest_every_s) return;
    m_.wall_s = since(t_start_);
    try {
        write_manifest_files(bs_.outdir, m_);
    } catch (const std::exception& e) { progress_.log(fmt::format("prep: {}", escape_control(e.what()))); }
    last_manifest_ = Clock::now();
}

// Reads the worker's reports until it closes its end, forwarding stop signals to it meanwhile.
Supervisor::Round Supervisor::read_reports(Pipe& out, pid_t pid) {
    Round r;
    std::string buf;
    for (bool eof = false; !eof;) {
        pollfd pf[2] = {{out.r, POLLIN, 0}, {signals_.fd(), POLLIN, 0}};
        const int pr = ::poll(pf, 2, 1000);
        if (pr < 0 && errno != EINTR) break;
        if (pf[1].revents & POLLIN) {
            while (const int sig = signals_.take()) {
                if (!result_.signal) result_.signal = sig;
                ::kill(pid, sig);
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[65536];
            const ssize_t got = ::read(out.r, chunk, sizeof chunk);
            if (got <= 0) {
                if (got < 0 && errno == EINTR) continue;
                eof = true;
            } else {
                buf.append(chunk, static_cast<std::size_t>(got));
            }
            for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
                handle_line(buf.substr(0, nl), r);
                buf.erase(0, nl + 1);
            }
        }
        refresh();
    }
    return r;
}

// After a worker ended: its culprit fails alone, suspects are retried one per worker. False: stop.
bool Supervisor::after_worker(pid_t pid, int st, const std::string& crash_line, Round& r, const std::vector<std::size_t>& part) {
    if (const std::size_t k = remove_temporaries(bs_.outdir, pid))
        progress_.log(fmt::format("prep: removed {} temporary file(s) of worker process {}", k, pid));
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0 && (!r.ready || r.finished == 0)) {
        result_.worker_exit = WEXITSTATUS(st);  // a setup error (or no thread could start): the worker printed it
        return false;
    }
    if (!WIFSIGNALED(st)) {
        for (std::size_t slot : part)
            if (!done_[slot]) mark_failed(slot, "the worker process ended without a result for it", "internal");
        return true;
    }
    const int sig = WTERMSIG(st);
    retry_.insert(r.inflight.begin(), r.inflight.end());
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        if (!result_.signal) result_.signal = sig;
        return false;
    }
    unsigned long long index = 0;
    int stage = 0, csig = 0;
    std::size_t slot = n_;
    if (std::sscanf(crash_line.c_str(), "C %llu %d %d", &index, &stage, &csig) == 3)
        if (auto it = slot_of_.find(index); it != slot_of_.end() && !done_[it->second]) slot = it->second;
    if (slot < n_) {
        mark_failed(
            slot, fmt::format("{} crashed: {} (the input was isolated in a worker process; the batch went on)", stage_word(stage), signal_name(csig)),
            "crashed");
    } else if (r.inflight.size() == 1) {
        mark_failed(*r.inflight.begin(), fmt::format("the worker process died by {} while processing it (the batch went on)", signal_name(sig)),
                    "crashed");
    } else if (!r.inflight.empty()) {
        progress_.log(fmt::format("prep: worker process died by {} with {} inputs in flight; retrying those one at a time", signal_name(sig),
                                  r.inflight.size()));
        solo_.insert(r.inflight.begin(), r.inflight.end());
    } else if (r.finished == 0) {
        throw Error(ErrorKind::internal, fmt::format("prep: the worker process died by {} before it processed any input", signal_name(sig)));
    }
    return true;
}

Supervised Supervisor::run() {
    for (int round = 0; !result_.signal; ++round) {
        const std::vector<std::size_t> part = next_part();
        if (part.empty()) break;
        Pipe in, out, crash;
        const pid_t pid = start_worker(in, out, crash, round);
        send_assignment(in, part);
        Round r = read_reports(out, pid);
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        std::string crash_line;
        char cb[128];
        if (const ssize_t got = ::read(crash.r, cb, sizeof cb); got > 0) crash_line.assign(cb, static_cast<std::size_t>(got));
        if (!after_worker(pid, st, crash_line, r, part)) break;
    }
    // a signal that came after the last worker ended still ends the run as interrupted
    while (const int sig = signals_.take())
        if (!result_.signal) result_.signal = sig;
    if (result_.worker_exit == 127) throw Error(ErrorKind::internal, "prep: cannot start the worker process (exec /proc/self/exe failed)");
    if (result_.worker_exit > 0) return result_;
    if (result_.signal)
        for (std::size_t i = 0; i < n_; ++i)
            if (!done_[i]) m_.entries[i].reason = fmt::format("not processed: the run was interrupted by {}", signal_name(result_.signal));
    const auto c = counts();
    progress_.update(c[0], c[1], c[2], true);
    m_.wall_s = since(t_start_);
    m_.finished_utc = utc_now_iso8601();
    write_manifest_files(bs_.outdir, m_);
    result_.failed = c[2];
    return result_;
}

}  // namespace

Supervised supervise_batch(const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m) { return Supervisor(work, bs, m).run(); }

}  // namespace aiaccel::cli::prep
