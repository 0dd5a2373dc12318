// The batch engine of `aiaccel prep`. Three pools of `jobs` threads — decode (header checks, FITS
// read, RICE decode, input sha256), compute (the Chain) and write (FITS write, output checksums) —
// joined by queues; a counting semaphore of jobs + 2 tokens, taken before a decode and given back
// after the write (or the failure), bounds the images held in memory whatever the number of inputs.
#include "apps/prep_pipeline.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <iterator>

#include <atomic>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fmt/format.h>
#include <mutex>
#include <optional>
#include <semaphore>
#include <set>
#include <thread>

#include "apps/prep_inputs.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/strings.hpp"

namespace aiaccel::cli::prep {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string_view error_kind_name(ErrorKind k) {
    switch (k) {
        case ErrorKind::unreadable: return "unreadable";
        case ErrorKind::unsupported: return "unsupported";
        case ErrorKind::not_aia: return "not_aia";
        case ErrorKind::missing_keyword: return "missing_keyword";
        case ErrorKind::bad_value: return "bad_value";
        case ErrorKind::write_failed: return "write_failed";
        case ErrorKind::usage: return "usage";
        case ErrorKind::not_implemented: return "not_implemented";
        case ErrorKind::internal: return "internal";
    }
    return "internal";
}

namespace {

template <class T>
class Queue {
public:
    void push(T v) {
        { std::lock_guard l(m_); q_.push_back(std::move(v)); }
        cv_.notify_one();
    }
    std::optional<T> pop() {  // nullopt once closed and empty
        std::unique_lock l(m_);
        cv_.wait(l, [&] { return closed_ || !q_.empty(); });
        if (q_.empty()) return std::nullopt;
        T v = std::move(q_.front());
        q_.pop_front();
        return v;
    }
    void close() {
        { std::lock_guard l(m_); closed_ = true; }
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<T> q_;
    bool closed_ = false;
};

// Terminal: one redrawn line "[#####.....] 23/57  4.1 img/s  ETA 0:08  ok 20  skipped 2  failed 1".
// Otherwise (logs, Slurm): the same numbers as a plain line every 10 s and at the end.
class BatchProgress {
public:
    explicit BatchProgress(std::size_t total) : total_(total), tty_(::isatty(STDERR_FILENO) != 0), start_(Clock::now()) {}
    void update(std::size_t ok, std::size_t skipped, std::size_t failed, bool final = false) {
        std::lock_guard l(m_);
        const auto now = Clock::now();
        const double s = std::chrono::duration<double>(now - start_).count();
        const std::size_t done = ok + skipped + failed, processed = ok + failed;
        if (!tty_ && !final && std::chrono::duration<double>(now - last_).count() < 10) return;
        last_ = now;
        // Rate over the images actually processed (resumed skips take no time).
        const double rate = s > 0 ? processed / s : 0;
        const double eta = rate > 0 ? (total_ - done) / rate : 0;
        const std::string counts = fmt::format("{}/{}  {:.2f} img/s  ETA {}  ok {}  skipped {}  failed {}", done, total_, rate,
                                               rate > 0 || done == total_ ? hms(eta) : "?", ok, skipped, failed);
        if (tty_) {
            const int width = 24, fill = total_ ? static_cast<int>(width * done / total_) : width;
            fmt::print(stderr, "\r\033[K[{}{}] {}", std::string(fill, '#'), std::string(width - fill, '.'), counts);
            if (final) fmt::print(stderr, "\n");
        } else {
            fmt::print(stderr, "prep: {}  {:.0f} s elapsed\n", counts, s);
        }
    }
    void log(const std::string& line) {  // a message that must not be overdrawn by the bar
        std::lock_guard l(m_);
        fmt::print(stderr, "{}{}\n", tty_ ? "\r\033[K" : "", line);
    }

private:
    static std::string hms(double s) {
        const long t = static_cast<long>(s + 0.5);
        return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60) : fmt::format("{}:{:02}", t / 60, t % 60);
    }
    std::mutex m_;
    std::size_t total_;
    bool tty_;
    Clock::time_point start_, last_{};
};

WriteOptions write_options(const AiaImage& img, Compression c) {
    WriteOptions wo;
    // The data's dtype, as sunpy's Map.save writes it (register keeps float32 input float32).
    wo.dtype = img.dtype == PixelType::f32 ? PixelType::f32 : img.dtype == PixelType::i16 ? PixelType::i16 : PixelType::f64;
    wo.compression = c;
    return wo;
}

std::string history_text(const FitsHeader& h) {
    std::string all;
    for (const auto& c : h.cards())
        if (c.key == "HISTORY") all += c.raw.size() > 8 ? c.raw.substr(8, 72) : std::string();
    return all;
}

}  // namespace

std::string existing_output_problem(const std::string& path, const ChainSettings& cs) {
    try {
        if (!verify_fits_checksum(path)) return "its DATASUM/CHECKSUM do not verify";
        if (history_text(read_image_header(path)).find(cs.signature()) == std::string::npos)
            return fmt::format("it was made with other settings (no HISTORY '{}')", cs.signature());
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

namespace {

// The temporary-file names of this project: ".NAME.tmp-PID-XXXXXXXX" (core/fits_write.cpp) and
// ".NAME.tmp-PID" (manifests). Returns the PID, or 0 if `name` is not one of them; `target` gets NAME.
long temporary_pid(const std::string& name, std::string* target = nullptr) {
    const auto at = name.rfind(".tmp-");
    if (!name.starts_with(".") || at == std::string::npos || at < 2) return 0;
    std::size_t i = at + 5, digits = 0;
    long pid = 0;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9' && digits < 10) pid = pid * 10 + (name[i++] - '0'), ++digits;
    if (digits == 0 || pid <= 0) return 0;
    if (i < name.size()) {  // "-" and 8 hex digits
        if (name[i] != '-' || name.size() - i != 9) return 0;
        for (std::size_t k = i + 1; k < name.size(); ++k)
            if (!std::isxdigit(static_cast<unsigned char>(name[k]))) return 0;
    }
    if (target) *target = name.substr(1, at - 1);
    return pid;
}

bool pid_dead(long pid) { return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

std::map<std::string, std::vector<fs::path>> stale_temporaries(const fs::path& outdir) {
    std::map<std::string, std::vector<fs::path>> found;
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(outdir, ec)) {
        std::string target;
        const long pid = temporary_pid(de.path().filename().string(), &target);
        if (pid > 0 && pid_dead(pid)) found[target].push_back(de.path());
    }
    return found;
}

std::size_t remove_temporaries(const fs::path& outdir, long only_pid) {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(outdir, ec)) {
        const long pid = temporary_pid(de.path().filename().string());
        if (pid <= 0 || (only_pid > 0 ? pid != only_pid : !pid_dead(pid))) continue;
        std::error_code rec;
        if (de.is_regular_file(rec) && fs::remove(de.path(), rec)) ++removed;
    }
    return removed;
}

// --- crash isolation: the worker side ---------------------------------------------------------
namespace {

constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);
enum StageId : int { kDecode = 1, kCompute = 2, kWrite = 3 };
// What this thread works on, for the crash handler (static TLS of the executable: plain memory).
thread_local std::size_t tl_index = kNoSlot;
thread_local int tl_stage = 0;
int g_crash_fd = -1;
std::atomic<int> g_crashed{0};

struct StageScope {
    StageScope(std::size_t index, int stage) { tl_index = index, tl_stage = stage; }
    ~StageScope() { tl_index = kNoSlot, tl_stage = 0; }
};

// Async-signal-safe: formats "C <index> <stage> <signal>\n" by hand, one write() (< PIPE_BUF, atomic),
// then lets the signal kill the process as it would have (SA_RESETHAND: default action on re-raise).
void on_crash(int sig) {
    int expected = 0;
    if (g_crash_fd >= 0 && tl_index != kNoSlot && g_crashed.compare_exchange_strong(expected, 1)) {
        char buf[64], tmp[24];
        int n = 0;
        auto put_num = [&](unsigned long long v) {
            int k = 0;
            do tmp[k++] = static_cast<char>('0' + v % 10), v /= 10; while (v);
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

// AIACCEL_TEST_CRASH_ON=<basename>: the decoder raises SIGSEGV on that input (tests of the isolation).
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

std::string stage_word(int stage) {
    return stage == kDecode ? "decoder" : stage == kCompute ? "compute stage" : stage == kWrite ? "writer" : "worker";
}

}  // namespace

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

std::size_t run_batch(Chain& chain, const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m, const BatchHooks& hooks) {
    const ChainSettings& cs = chain.settings();
    const std::size_t n = work.size();
    const int jobs = std::max(1, bs.jobs);
    const bool worker = static_cast<bool>(hooks.finished);  // a supervised worker: the supervisor keeps the record
    m.entries.assign(n, {});
    for (std::size_t i = 0; i < n; ++i) {
        m.entries[i].index = work[i].index;
        m.entries[i].input = work[i].input;
    }
    struct Item {
        std::size_t slot;
        AiaImage img;
        Clock::time_point t0;
    };
    Queue<Item> to_compute, to_write;
    std::counting_semaphore<> tokens(jobs + 2);
    std::mutex mu;  // entries, counters, claimed outputs
    std::condition_variable finished_cv;
    std::size_t ok = 0, skipped = 0, failed = 0;
    std::set<std::string> claimed = bs.claimed_before;
    std::atomic<std::size_t> next{0};
    BatchProgress progress(n);
    const auto t_start = Clock::now();

    auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    auto finish = [&](std::size_t slot, Status st, Clock::time_point t0, const std::string& reason = {}, std::string_view kind = {}) {
        {
            std::lock_guard l(mu);
            auto& e = m.entries[slot];
            e.status = st;
            e.reason = reason;
            e.error_kind = std::string(kind);
            e.seconds = since(t0);
            (st == Status::ok ? ok : st == Status::skipped ? skipped : failed)++;
            try {
                if (worker) hooks.finished(e);
            } catch (...) {  // the supervisor then records it as unreported
            }
        }
        try {
            if (st == Status::failed) progress.log("prep: FAILED " + escape_control(reason));
        } catch (...) {
        }
        finished_cv.notify_all();
        tokens.release();
    };
    // Every failure names its input first; out of memory says in which stage.
    auto fail = [&](std::size_t slot, Clock::time_point t0, std::exception_ptr ep, const char* stage) {
        const std::string& in = m.entries[slot].input;
        try {
            std::string msg, kind = "internal";
            try {
                std::rethrow_exception(ep);
            } catch (const std::bad_alloc&) {
                msg = fmt::format("out of memory while {}", stage), kind = "out_of_memory";
            } catch (const Error& e) {
                msg = e.what(), kind = std::string(error_kind_name(e.kind()));
            } catch (const std::system_error& e) {
                msg = fmt::format("{} failed: {}", stage, e.what()), kind = "resources";
            } catch (const std::exception& e) {
                msg = e.what();
            } catch (...) {
                msg = fmt::format("unknown error while {}", stage);
            }
            if (msg.rfind(in + ":", 0) != 0) msg = in + ": " + msg;
            finish(slot, Status::failed, t0, msg, kind);
        } catch (...) {  // no memory even for the message: record the bare facts
            {
                std::lock_guard l(mu);
                auto& e = m.entries[slot];
                e.status = Status::failed;
                e.error_kind = "out_of_memory";
                ++failed;
            }
            finished_cv.notify_all();
            tokens.release();
        }
    };
    auto identify_output = [&](std::size_t slot, const std::string& out) {
        const OutputIdentity id = output_identity(out);
        const std::string sha = sha256_file(out);
        std::lock_guard l(mu);
        auto& e = m.entries[slot];
        e.output_sha256 = sha;
        e.output_content_sha256 = id.content_sha256;
        e.output_datasum = id.datasum;
    };

    auto decoder = [&] {
        for (;;) {
            tokens.acquire();
            const std::size_t slot = next++;
            if (slot >= n) {
                tokens.release();
                return;
            }
            const auto t0 = Clock::now();
            const std::string& in = work[slot].input;
            StageScope scope(work[slot].index, kDecode);
            try {
                if (worker) hooks.started(work[slot].index);
                std::error_code ec;
                const auto size = fs::file_size(in, ec);
                if (ec) throw file_error(ErrorKind::unreadable, in, "cannot read the file: " + ec.message());
                { std::lock_guard l(mu); m.entries[slot].input_size = size; }
                FitsHeader h = read_image_header(in);
                const AiaHeader ah(h, in);
                check_input_header(ah, cs);
                const std::string out = (bs.outdir / output_name(ah, cs.level)).string();
                {
                    std::lock_guard l(mu);
                    m.entries[slot].output = out;
                    if (!claimed.insert(out).second)
                        throw file_error(ErrorKind::bad_value, in, fmt::format("same channel and DATE-OBS as an earlier input: {} is its output too", out));
                }
                if (auto st = bs.stale.find(fs::path(out).filename().string()); st != bs.stale.end())
                    for (const auto& t : st->second)
                        if (fs::remove(t, ec)) progress.log(fmt::format("prep: removed {} (left by an interrupted run)", escape_control(t.string())));
                std::string note;
                if (fs::exists(out, ec)) {
                    if (fs::equivalent(out, in, ec)) throw file_error(ErrorKind::usage, in, "its output name is the input file itself");
                    if (bs.resume) {
                        const std::string why = existing_output_problem(out, cs);
                        if (why.empty()) {
                            identify_output(slot, out);
                            finish(slot, Status::skipped, t0, "output exists and verifies (--resume)");
                            continue;
                        }
                        note = fmt::format("existing output replaced: {}", why);
                    } else if (bs.retried.count(work[slot].index)) {
                        note = "replaced the output of an attempt cut short by a worker crash";
                    } else if (!bs.overwrite) {
                        throw file_error(ErrorKind::usage, in, fmt::format("output {} exists (--resume skips verified outputs, --overwrite replaces)", out));
                    }
                }
                maybe_test_crash(in);
                AiaImage img = load_aia(in);
                const std::string sha = sha256_file(in);
                {
                    std::lock_guard l(mu);
                    m.entries[slot].input_sha256 = sha;
                    m.entries[slot].reason = note;
                }
                to_compute.push(Item{slot, std::move(img), t0});
            } catch (...) {
                fail(slot, t0, std::current_exception(), "decoding");
            }
        }
    };
    auto computer = [&] {
        for (;;) {
            std::optional<Item> it;
            try {
                it = to_compute.pop();
            } catch (...) {
                continue;  // only the queue's lock could throw; try again
            }
            if (!it) return;
            StageScope scope(work[it->slot].index, kCompute);
            try {
                std::vector<std::string> warnings;
                std::string used = chain.run(it->img, &warnings);
                {
                    std::lock_guard l(mu);
                    m.entries[it->slot].stages = std::move(used);
                    m.entries[it->slot].warnings = std::move(warnings);
                }
                to_write.push(std::move(*it));
            } catch (...) {
                fail(it->slot, it->t0, std::current_exception(), "computing");
            }
        }
    };
    auto writer = [&] {
        for (;;) {
            std::optional<Item> it;
            try {
                it = to_write.pop();
            } catch (...) {
                continue;
            }
            if (!it) return;
            StageScope scope(work[it->slot].index, kWrite);
            try {
                const std::string out = m.entries[it->slot].output;  // set once by the decoder, read-only since
                write_fits(out, it->img.data, it->img.header, write_options(it->img, bs.compression));
                it->img = {};  // free the pixels before hashing
                identify_output(it->slot, out);
                std::string note;
                { std::lock_guard l(mu); note = m.entries[it->slot].reason; }
                finish(it->slot, Status::ok, it->t0, note);
            } catch (...) {
                fail(it->slot, it->t0, std::current_exception(), "writing");
            }
        }
    };

    // Threads start one of each stage at a time; if the system refuses a thread (ulimit, memory), the
    // batch goes on with the trios already running, or — none at all — ends with one clean error.
    std::vector<std::thread> decoders, computers, writers;
    decoders.reserve(jobs), computers.reserve(jobs), writers.reserve(jobs);
    std::string start_error;
    for (int i = 0; i < jobs && start_error.empty(); ++i) {
        try {
            writers.emplace_back(writer);
            computers.emplace_back(computer);
            decoders.emplace_back(decoder);
        } catch (const std::exception& e) {
            start_error = e.what();
        }
    }
    if (decoders.empty()) {
        to_compute.close();
        to_write.close();
        for (auto& t : computers) t.join();
        for (auto& t : writers) t.join();
        throw Error(ErrorKind::internal, fmt::format("{}: cannot start worker threads ({}); try fewer --jobs or more memory",
                                                     bs.outdir.string(), start_error));
    }
    if (!start_error.empty())
        progress.log(fmt::format("prep: started {} of {} thread(s) per stage ({}); going on with {}", decoders.size(), jobs, start_error, decoders.size()));

    // The calling thread reports progress and keeps the manifest current until every input is done.
    auto last_manifest = Clock::now();
    for (;;) {
        std::size_t o, s, f;
        {
            std::unique_lock l(mu);
            finished_cv.wait_for(l, std::chrono::seconds(1), [&] { return ok + skipped + failed == n; });
            o = ok, s = skipped, f = failed;
        }
        if (o + s + f == n) break;
        if (worker) continue;
        progress.update(o, s, f);
        if (since(last_manifest) >= bs.manifest_every_s) {
            std::lock_guard l(mu);
            m.wall_s = since(t_start);
            try {
                write_manifest_files(bs.outdir, m);
            } catch (const std::exception& e) {
                progress.log(fmt::format("prep: {}", escape_control(e.what())));
            }
            last_manifest = Clock::now();
        }
    }
    for (auto& t : decoders) t.join();
    to_compute.close();
    for (auto& t : computers) t.join();
    to_write.close();
    for (auto& t : writers) t.join();
    m.wall_s = since(t_start);
    m.finished_utc = utc_now_iso8601();
    if (!worker) {
        progress.update(ok, skipped, failed, true);
        write_manifest_files(bs.outdir, m);
    }
    return failed;
}

// --- crash isolation: the supervisor side ------------------------------------------------------
namespace {

std::string signal_name(int sig) {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGFPE: return "SIGFPE";
        case SIGBUS: return "SIGBUS";
        case SIGILL: return "SIGILL";
        case SIGABRT: return "SIGABRT";
        case SIGKILL: return "SIGKILL";
        case SIGTERM: return "SIGTERM";
        case SIGINT: return "SIGINT";
        case SIGHUP: return "SIGHUP";
    }
    return fmt::format("signal {}", sig);
}

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
    void close_r() { if (r >= 0) ::close(r), r = -1; }
    void close_w() { if (w >= 0) ::close(w), w = -1; }
};

}  // namespace

Supervised supervise_batch(const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m) {
    const std::size_t n = work.size();
    m.entries.assign(n, {});
    std::map<std::size_t, std::size_t> slot_of;  // list index → slot
    for (std::size_t i = 0; i < n; ++i) {
        m.entries[i].index = work[i].index;
        m.entries[i].input = work[i].input;
        slot_of[work[i].index] = i;
    }
    std::vector<std::string> args = own_argv();
    auto at = std::find(args.begin(), args.end(), "prep");
    if (args.empty() || at == args.end()) throw Error(ErrorKind::internal, "prep: cannot read this process's command line (/proc/self/cmdline)");
    const std::size_t prep_at = static_cast<std::size_t>(at - args.begin());

    // SIGINT/SIGTERM/SIGHUP arrive through a signalfd: the supervisor forwards them to the worker, removes
    // the worker's temporaries once it is gone, writes the manifest and exits 128 + signal.
    sigset_t stop, old_mask;
    sigemptyset(&stop);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {  // not those ignored on purpose (nohup, a background job's SIGINT)
        struct sigaction cur {};
        if (::sigaction(sig, nullptr, &cur) == 0 && cur.sa_handler != SIG_IGN) sigaddset(&stop, sig);
    }
    ::sigprocmask(SIG_BLOCK, &stop, &old_mask);
    const int sfd = ::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    struct sigaction ign {}, old_pipe {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe);

    Supervised result;
    std::vector<bool> done(n, false);
    std::vector<std::string> outputs(n);  // outputs claimed by finished inputs, for the next worker
    std::set<std::size_t> retry;  // in flight when a worker died: their output may be that worker's
    std::set<std::size_t> solo;  // suspects of a crash nobody claimed: run one per worker
    BatchProgress progress(n);
    const auto t_start = Clock::now();
    auto last_manifest = Clock::now();
    auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    auto counts = [&] {
        std::size_t c[4] = {0, 0, 0, 0};
        for (const auto& e : m.entries) ++c[static_cast<int>(e.status)];
        return std::array<std::size_t, 3>{c[0], c[1], c[2]};
    };
    auto mark_failed = [&](std::size_t slot, const std::string& why, const std::string& kind) {
        auto& e = m.entries[slot];
        e.status = Status::failed;
        e.reason = e.input + ": " + why;
        e.error_kind = kind;
        done[slot] = true;
        progress.log("prep: FAILED " + escape_control(e.reason));
    };

    for (int round = 0; !result.signal; ++round) {
        std::vector<std::size_t> part;
        if (!solo.empty()) {
            part.push_back(*solo.begin());
            solo.erase(solo.begin());
        } else {
            for (std::size_t i = 0; i < n; ++i)
                if (!done[i]) part.push_back(i);
        }
        if (part.empty()) break;
        Pipe in, out, crash;
        std::vector<std::string> wargs(args.begin(), args.begin() + static_cast<long>(prep_at) + 1);
        wargs.push_back(fmt::format("--internal-worker={},{},{},{}", in.r, out.w, crash.w, round));
        wargs.insert(wargs.end(), args.begin() + static_cast<long>(prep_at) + 1, args.end());
        std::vector<char*> argv;
        for (auto& a : wargs) argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) throw Error(ErrorKind::internal, fmt::format("prep: cannot start a worker process: {}", std::strerror(errno)));
        if (pid == 0) {  // the worker: async-signal-safe calls only until exec
            ::fcntl(in.r, F_SETFD, 0), ::fcntl(out.w, F_SETFD, 0), ::fcntl(crash.w, F_SETFD, 0);
            ::sigaction(SIGPIPE, &old_pipe, nullptr);
            ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != parent) ::_exit(1);
            ::execv("/proc/self/exe", argv.data());
            ::_exit(127);
        }
        in.close_r(), out.close_w(), crash.close_w();
        {   // the assignment: list indices and the outputs earlier workers already claimed
            std::string a;
            for (std::size_t slot : part) a += fmt::format("I {} {}\n", work[slot].index, to_hex(work[slot].input));
            for (std::size_t i = 0; i < n; ++i)
                if (done[i] && !outputs[i].empty()) a += "O " + to_hex(outputs[i]) + "\n";
            for (std::size_t slot : retry) a += fmt::format("R {}\n", work[slot].index);
            write_all(in.w, a);
            in.close_w();
        }
        std::set<std::size_t> inflight;
        bool ready = false;
        std::size_t finished_here = 0;
        std::string buf;
        for (bool eof = false; !eof;) {
            pollfd pf[2] = {{out.r, POLLIN, 0}, {sfd, POLLIN, 0}};
            const int pr = ::poll(pf, 2, 1000);
            if (pr < 0 && errno != EINTR) break;
            if (pf[1].revents & POLLIN) {
                signalfd_siginfo si{};
                while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                    if (!result.signal) result.signal = static_cast<int>(si.ssi_signo);
                    ::kill(pid, static_cast<int>(si.ssi_signo));
                }
            }
            if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                char chunk[65536];
                const ssize_t r = ::read(out.r, chunk, sizeof chunk);
                if (r <= 0) {
                    if (r < 0 && errno == EINTR) continue;
                    eof = true;
                } else {
                    buf.append(chunk, static_cast<std::size_t>(r));
                }
                for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
                    const std::string line = buf.substr(0, nl);
                    buf.erase(0, nl + 1);
                    try {
                        if (line.starts_with("K ")) {
                            ready = true;
                            m.backend = nlohmann::json::parse(line.substr(2)).get<std::string>();
                        } else if (line.starts_with("B ")) {
                            if (auto it = slot_of.find(std::stoull(line.substr(2))); it != slot_of.end()) inflight.insert(it->second);
                        } else if (line.starts_with("E ")) {
                            ManifestEntry e = entry_from_json(nlohmann::json::parse(line.substr(2)), "prep worker");
                            if (auto it = slot_of.find(e.index); it != slot_of.end()) {
                                e.input = m.entries[it->second].input;  // the exact path (the record escapes it)
                                if (!e.output.empty() && e.status != Status::failed)
                                    outputs[it->second] = fs::path(bs.outdir / fs::path(e.output).filename()).string();
                                m.entries[it->second] = std::move(e);
                                done[it->second] = true;
                                inflight.erase(it->second);
                                ++finished_here;
                            }
                        }
                    } catch (const std::exception&) {  // a garbled line: that input counts as unreported
                    }
                }
            }
            const auto c = counts();
            progress.update(c[0], c[1], c[2]);
            if (since(last_manifest) >= bs.manifest_every_s) {
                m.wall_s = since(t_start);
                try {
                    write_manifest_files(bs.outdir, m);
                } catch (const std::exception& e) {
                    progress.log(fmt::format("prep: {}", escape_control(e.what())));
                }
                last_manifest = Clock::now();
            }
        }
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        std::string crash_line;
        {
            char cb[128];
            const ssize_t r = ::read(crash.r, cb, sizeof cb);
            if (r > 0) crash_line.assign(cb, static_cast<std::size_t>(r));
        }
        if (const std::size_t k = remove_temporaries(bs.outdir, pid))
            progress.log(fmt::format("prep: removed {} temporary file(s) of worker process {}", k, pid));
        if (WIFSIGNALED(st)) {
            const int sig = WTERMSIG(st);
            retry.insert(inflight.begin(), inflight.end());
            if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
                if (!result.signal) result.signal = sig;
                break;
            }
            unsigned long long index = 0;
            int stage = 0, csig = 0;
            std::size_t slot = n;
            if (std::sscanf(crash_line.c_str(), "C %llu %d %d", &index, &stage, &csig) == 3)
                if (auto it = slot_of.find(index); it != slot_of.end() && !done[it->second]) slot = it->second;
            if (slot < n) {
                mark_failed(slot, fmt::format("{} crashed: {} (the input was isolated in a worker process; the batch went on)",
                                              stage_word(stage), signal_name(csig)), "crashed");
                inflight.erase(slot);
            } else if (inflight.size() == 1) {
                mark_failed(*inflight.begin(), fmt::format("the worker process died by {} while processing it (the batch went on)",
                                                           signal_name(sig)), "crashed");
                inflight.clear();
            } else if (!inflight.empty()) {
                progress.log(fmt::format("prep: worker process died by {} with {} inputs in flight; retrying those one at a time",
                                         signal_name(sig), inflight.size()));
                solo.insert(inflight.begin(), inflight.end());
            } else if (finished_here == 0) {
                throw Error(ErrorKind::internal, fmt::format("prep: the worker process died by {} before it processed any input", signal_name(sig)));
            }
        } else if (WIFEXITED(st) && WEXITSTATUS(st) != 0 && (!ready || finished_here == 0)) {
            result.worker_exit = WEXITSTATUS(st);  // a setup error (or no thread could start): the worker printed it
            break;
        } else {
            for (std::size_t slot : part)
                if (!done[slot]) mark_failed(slot, "the worker process ended without a result for it", "internal");
        }
    }
    if (sfd >= 0) {  // a signal that came after the last worker ended still ends the run as interrupted
        signalfd_siginfo si{};
        while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
            if (!result.signal) result.signal = static_cast<int>(si.ssi_signo);
        ::close(sfd);
    }
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    if (result.worker_exit == 127) throw Error(ErrorKind::internal, "prep: cannot start the worker process (exec /proc/self/exe failed)");
    if (result.worker_exit > 0) return result;
    if (result.signal)
        for (std::size_t i = 0; i < n; ++i)
            if (!done[i]) m.entries[i].reason = fmt::format("not processed: the run was interrupted by {}", signal_name(result.signal));
    const auto c = counts();
    progress.update(c[0], c[1], c[2], true);
    m.wall_s = since(t_start);
    m.finished_utc = utc_now_iso8601();
    write_manifest_files(bs.outdir, m);
    result.failed = c[2];
    return result;
}

// --- one run per output folder -----------------------------------------------------------------
namespace {

std::string describe_holder(const fs::path& lock_file) {
    std::ifstream in(lock_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text.empty() ? "a run that has not written its name yet" : text;
}

bool held(const fs::path& lock_file) {
    const int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool busy = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return busy;
}

}  // namespace

namespace {

// flock on `p`, retried while the file we locked is no longer the one at `p` (a finishing run unlinks
// its lock file: whoever locked the unlinked inode must lock the new file instead).
int lock_file(const fs::path& p, int how, const std::string& outdir) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        const int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) throw file_error(ErrorKind::write_failed, outdir, fmt::format("cannot create the lock file {}: {}", p.filename().string(), std::strerror(errno)));
        if (::flock(fd, how | LOCK_NB) != 0) {
            ::close(fd);
            return -1;
        }
        struct stat a {}, b {};
        if (::fstat(fd, &a) == 0 && ::stat(p.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) return fd;
        ::close(fd);
    }
    throw file_error(ErrorKind::write_failed, outdir, "cannot take the lock file (it keeps being replaced)");
}

}  // namespace

OutputLock::OutputLock(const fs::path& outdir, const std::string& shard, const std::string& command) {
    whole_folder_ = shard.empty() || shard == "0/1";
    folder_lock_ = outdir / ".aiaccel-prep.lock";
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    const std::string me = fmt::format("pid {} on host {} since {}: {}\n", ::getpid(), host, utc_now_iso8601(), escape_control(command));
    auto busy = [&](const std::string& who) {
        return Error(ErrorKind::usage, fmt::format("{}: another aiaccel prep run is using this output folder ({}); wait for it, or use another "
                                                   "folder (shards of one batch: --shard I/N)", outdir.string(), who));
    };
    auto stamp = [&](int fd) {
        if (::ftruncate(fd, 0) == 0) write_all(fd, me);
    };
    // The whole folder: exclusive. A shard: the folder shared (with the other shards of its batch, not
    // with a whole-folder run) and its own shard file exclusive (the same shard twice is refused).
    folder_fd_ = lock_file(folder_lock_, whole_folder_ ? LOCK_EX : LOCK_SH, outdir.string());
    if (folder_fd_ < 0) {
        std::string who;
        std::error_code ec;
        for (const auto& de : fs::directory_iterator(outdir, ec)) {
            const std::string name = de.path().filename().string();
            if (name.starts_with(".aiaccel-prep.shard-") && name.ends_with(".lock") && held(de.path()))
                append_joined(who, "; ", describe_holder(de.path()));
        }
        if (who.empty()) who = describe_holder(folder_lock_);
        throw busy(who);
    }
    if (whole_folder_) {
        stamp(folder_fd_);
        return;
    }
    std::string tag = shard;
    std::replace(tag.begin(), tag.end(), '/', '-');
    shard_lock_ = outdir / fmt::format(".aiaccel-prep.shard-{}.lock", tag);
    shard_fd_ = lock_file(shard_lock_, LOCK_EX, outdir.string());
    if (shard_fd_ < 0) {
        const std::string who = describe_holder(shard_lock_);
        ::close(folder_fd_);
        folder_fd_ = -1;
        throw busy(who);
    }
    stamp(shard_fd_);
}

// A run that ends normally removes its lock file (a shard only its shard file: another shard may be
// about to take the shared folder lock); one that is killed leaves them, unlocked, for the next run.
OutputLock::~OutputLock() {
    std::error_code ec;
    if (shard_fd_ >= 0) {
        fs::remove(shard_lock_, ec);
        ::close(shard_fd_);
    }
    if (folder_fd_ >= 0) {
        if (whole_folder_) fs::remove(folder_lock_, ec);
        ::close(folder_fd_);
    }
}

std::size_t dry_run(const ChainSettings& cs, const std::vector<WorkItem>& work, const BatchSettings& bs) {
    std::size_t would_fail = 0, would_run = 0, would_skip = 0;
    std::set<std::string> claimed;
    for (const auto& w : work) {
        std::string action, out;
        try {
            FitsHeader h = read_image_header(w.input);
            const AiaHeader ah(h, w.input);
            check_input_header(ah, cs);
            out = (bs.outdir / output_name(ah, cs.level)).string();
            std::error_code ec;
            if (!claimed.insert(out).second) throw file_error(ErrorKind::bad_value, w.input, "same channel and DATE-OBS as an earlier input");
            if (!fs::exists(out, ec)) action = "process";
            else if (bs.overwrite) action = "process (replace existing output)";
            else if (bs.resume) {
                const std::string why = existing_output_problem(out, cs);
                action = why.empty() ? "skip (output exists and verifies)" : "process (existing output: " + why + ")";
            } else throw file_error(ErrorKind::usage, w.input, "output exists (--resume or --overwrite)");
        } catch (const Error& e) {
            action = fmt::format("FAIL {}", e.what());
        }
        if (action.starts_with("FAIL")) ++would_fail;
        else if (action.starts_with("skip")) ++would_skip;
        else ++would_run;
        fmt::print("#{:<6} {} -> {}  [{}]\n", w.index, w.input, out.empty() ? "-" : out, action);
    }
    fmt::print(stderr, "prep --dry-run: {} to process, {} to skip, {} would fail (header checks only; pixel-level failures such as "
               "'no full disk' show only in a real run)\n", would_run, would_skip, would_fail);
    return would_fail;
}

}  // namespace aiaccel::cli::prep
