// The batch engine of `aiaccel prep`. Three pools of `jobs` threads — decode (header checks, FITS
// read, RICE decode, input sha256), compute (the Chain) and write (FITS write, output checksums) —
// joined by queues; a counting semaphore of jobs + 2 tokens, taken before a decode and given back
// after the write (or the failure), bounds the images held in memory whatever the number of inputs.
#include "apps/prep_pipeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
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
#include "apps/prep_progress.hpp"
#include "apps/prep_worker.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/stopwatch.hpp"
#include "core/strings.hpp"

namespace aiaccel::cli::prep {
namespace fs = std::filesystem;

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
        {
            std::lock_guard l(m_);
            q_.push_back(std::move(v));
        }
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
        {
            std::lock_guard l(m_);
            closed_ = true;
        }
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<T> q_;
    bool closed_ = false;
};

WriteOptions write_options(const AiaImage& img, bool output_f32, Compression c, WriteTimes* times) {
    WriteOptions wo;
    // The data's dtype, as sunpy's Map.save writes it (register keeps float32 input float32), unless
    // the user asked for float32 (--output-dtype float32).
    wo.dtype = img.dtype == PixelType::f32 ? PixelType::f32 : img.dtype == PixelType::i16 ? PixelType::i16 : PixelType::f64;
    if (output_f32 && wo.dtype == PixelType::f64) wo.dtype = PixelType::f32;
    wo.compression = c;
    wo.times = times;
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
    } catch (const Error& e) { return e.what(); }
}

namespace {

// One batch in this process: `jobs` decoder → computer → writer trios joined by two queues, at most
// jobs + 2 images in memory (tokens), every input finished exactly once (ok, skipped or failed).
class BatchRun {
public:
    BatchRun(Chain& chain, const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m, const BatchHooks& hooks)
        : chain_(chain),
          cs_(chain.settings()),
          work_(work),
          bs_(bs),
          m_(m),
          hooks_(hooks),
          n_(work.size()),
          jobs_(std::max(1, bs.jobs)),
          worker_(static_cast<bool>(hooks.finished)),
          tokens_(jobs_ + 2),
          claimed_(bs.claimed_before),
          progress_(n_) {
        m_.entries.assign(n_, {});
        for (std::size_t i = 0; i < n_; ++i) {
            m_.entries[i].index = work_[i].index;
            m_.entries[i].input = work_[i].input;
        }
    }

    std::size_t run() {
        start_threads();
        report_until_done();
        join_threads();
        m_.wall_s = since(t_start_);
        m_.finished_utc = utc_now_iso8601();
        if (!worker_) {
            progress_.update(ok_, skipped_, failed_, true);
            write_manifest_files(bs_.outdir, m_);
        }
        return failed_;
    }

private:
    struct Item {
        std::size_t slot;
        AiaImage img;
        Clock::time_point t0;
    };

    static double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

    void finish(std::size_t slot, Status st, Clock::time_point t0, const std::string& reason = {}, std::string_view kind = {}) {
        {
            std::lock_guard l(mu_);
            auto& e = m_.entries[slot];
            e.status = st;
            e.reason = reason;
            e.error_kind = std::string(kind);
            e.seconds = since(t0);
            (st == Status::ok ? ok_ : st == Status::skipped ? skipped_ : failed_)++;
            try {
                if (worker_) hooks_.finished(e);
            } catch (...) {  // the supervisor then records it as unreported
            }
        }
        try {
            if (st == Status::failed) progress_.log("prep: FAILED " + escape_control(reason));
        } catch (...) {}
        finished_cv_.notify_all();
        tokens_.release();
    }

    // Every failure names its input first; out of memory says in which stage.
    void fail(std::size_t slot, Clock::time_point t0, std::exception_ptr ep, const char* stage) {
        const std::string& in = m_.entries[slot].input;
        try {
            std::string msg, kind = "internal";
            try {
                std::rethrow_exception(ep);
            } catch (const std::bad_alloc&) { msg = fmt::format("out of memory while {}", stage), kind = "out_of_memory"; } catch (const Error& e) {
                msg = e.what(), kind = std::string(error_kind_name(e.kind()));
            } catch (const std::system_error& e) {
                msg = fmt::format("{} failed: {}", stage, e.what()), kind = "resources";
            } catch (const std::exception& e) { msg = e.what(); } catch (...) {
                msg = fmt::format("unknown error while {}", stage);
            }
            if (msg.rfind(in + ":", 0) != 0) msg = in + ": " + msg;
            finish(slot, Status::failed, t0, msg, kind);
        } catch (...) {  // no memory even for the message: record the bare facts
            {
                std::lock_guard l(mu_);
                auto& e = m_.entries[slot];
                e.status = Status::failed;
                e.error_kind = "out_of_memory";
                ++failed_;
            }
            finished_cv_.notify_all();
            tokens_.release();
        }
    }

    void identify_output(std::size_t slot, const std::string& out) {
        Stopwatch sw;
        const OutputIdentity id = output_identity(out);
        const std::string sha = sha256_file(out);
        const double s = sw.lap();
        std::lock_guard l(mu_);
        auto& e = m_.entries[slot];
        e.timings["output_identity"] = s;
        e.output_sha256 = sha;
        e.output_content_sha256 = id.content_sha256;
        e.output_datasum = id.datasum;
    }

    // The input's header: checked, its output named and claimed, and what exists there decided on
    // (--resume, --overwrite, a retry). Returns the note for the record, or nullopt: skipped (verified).
    std::optional<std::string> claim_output(std::size_t slot, Clock::time_point t0) {
        const std::string& in = work_[slot].input;
        std::error_code ec;
        const auto size = fs::file_size(in, ec);
        if (ec) throw file_error(ErrorKind::unreadable, in, "cannot read the file: " + ec.message());
        {
            std::lock_guard l(mu_);
            m_.entries[slot].input_size = size;
        }
        FitsHeader h = read_image_header(in);
        const AiaHeader ah(h, in);
        check_input_header(ah, cs_);
        const std::string out = (bs_.outdir / output_name(ah, cs_.level)).string();
        {
            std::lock_guard l(mu_);
            m_.entries[slot].output = out;
            if (!claimed_.insert(out).second)
                throw file_error(ErrorKind::bad_value, in, fmt::format("same channel and DATE-OBS as an earlier input: {} is its output too", out));
        }
        if (auto st = bs_.stale.find(fs::path(out).filename().string()); st != bs_.stale.end())
            for (const auto& t : st->second)
                if (fs::remove(t, ec)) progress_.log(fmt::format("prep: removed {} (left by an interrupted run)", escape_control(t.string())));
        std::string note;
        if (fs::exists(out, ec)) {
            if (fs::equivalent(out, in, ec)) throw file_error(ErrorKind::usage, in, "its output name is the input file itself");
            if (bs_.resume) {
                const std::string why = existing_output_problem(out, cs_);
                if (why.empty()) {
                    identify_output(slot, out);
                    finish(slot, Status::skipped, t0, "output exists and verifies (--resume)");
                    return std::nullopt;
                }
                note = fmt::format("existing output replaced: {}", why);
            } else if (bs_.retried.count(work_[slot].index)) {
                note = "replaced the output of an attempt cut short by a worker crash";
            } else if (!bs_.overwrite) {
                throw file_error(ErrorKind::usage, in, fmt::format("output {} exists (--resume skips verified outputs, --overwrite replaces)", out));
            }
        }
        return note;
    }

    void decoder() {
        for (;;) {
            tokens_.acquire();
            const std::size_t slot = next_++;
            if (slot >= n_) {
                tokens_.release();
                return;
            }
            const auto t0 = Clock::now();
            const std::string& in = work_[slot].input;
            StageScope scope(work_[slot].index, kDecode);
            try {
                if (worker_) hooks_.started(work_[slot].index);
                Stopwatch sw;
                const std::optional<std::string> note = claim_output(slot, t0);
                if (!note) continue;
                const double header_s = sw.lap();
                maybe_test_crash(in);
                ReadTimes rt;
                AiaImage img = load_aia(in, {.verify_checksum = bs_.verify_checksum, .refuse_mismatch = bs_.verify_checksum, .times = &rt});
                sw.lap();
                const std::string sha = sha256_file(in);
                {
                    std::lock_guard l(mu_);
                    auto& e = m_.entries[slot];
                    e.input_sha256 = sha;
                    e.reason = *note;
                    e.timings.insert({{"header", header_s},
                                      {"precheck", rt.precheck},
                                      {"checksum", rt.checksum},
                                      {"decode", rt.decode},
                                      {"input_sha256", sw.lap()}});
                }
                to_compute_.push(Item{slot, std::move(img), t0});
            } catch (...) { fail(slot, t0, std::current_exception(), "decoding"); }
        }
    }

    void computer() {
        for (;;) {
            std::optional<Item> it;
            try {
                it = to_compute_.pop();
            } catch (...) {
                continue;  // only the queue's lock could throw; try again
            }
            if (!it) return;
            StageScope scope(work_[it->slot].index, kCompute);
            try {
                std::vector<std::string> warnings;
                StepTimes times;
                std::string used = chain_.run(it->img, &warnings, &times);
                {
                    std::lock_guard l(mu_);
                    auto& e = m_.entries[it->slot];
                    e.stages = std::move(used);
                    e.warnings = std::move(warnings);
                    e.timings.merge(times);
                }
                to_write_.push(std::move(*it));
            } catch (...) { fail(it->slot, it->t0, std::current_exception(), "computing"); }
        }
    }

    void writer() {
        for (;;) {
            std::optional<Item> it;
            try {
                it = to_write_.pop();
            } catch (...) { continue; }
            if (!it) return;
            StageScope scope(work_[it->slot].index, kWrite);
            try {
                const std::string out = m_.entries[it->slot].output;  // set once by the decoder, read-only since
                WriteTimes wt;
                write_fits(out, it->img.data, it->img.header, write_options(it->img, cs_.output_f32, bs_.compression, &wt));
                it->img = {};  // free the pixels before hashing
                {
                    std::lock_guard l(mu_);
                    m_.entries[it->slot].timings.insert({{"write", wt.write}, {"output_checksum", wt.checksum}, {"rename", wt.rename}});
                }
                identify_output(it->slot, out);
                std::string note;
                {
                    std::lock_guard l(mu_);
                    note = m_.entries[it->slot].reason;
                }
                finish(it->slot, Status::ok, it->t0, note);
            } catch (...) { fail(it->slot, it->t0, std::current_exception(), "writing"); }
        }
    }

    // Threads start one of each stage at a time; if the system refuses a thread (ulimit, memory), the
    // batch goes on with the trios already running, or — none at all — ends with one clean error.
    void start_threads() {
        decoders_.reserve(jobs_), computers_.reserve(jobs_), writers_.reserve(jobs_);
        std::string start_error;
        for (int i = 0; i < jobs_ && start_error.empty(); ++i) {
            try {
                writers_.emplace_back([this] { writer(); });
                computers_.emplace_back([this] { computer(); });
                decoders_.emplace_back([this] { decoder(); });
            } catch (const std::exception& e) { start_error = e.what(); }
        }
        if (decoders_.empty()) {
            to_compute_.close();
            to_write_.close();
            for (auto& t : computers_) t.join();
            for (auto& t : writers_) t.join();
            computers_.clear(), writers_.clear();
            throw Error(ErrorKind::internal,
                        fmt::format("{}: cannot start worker threads ({}); try fewer --jobs or more memory", bs_.outdir.string(), start_error));
        }
        if (!start_error.empty())
            progress_.log(fmt::format("prep: started {} of {} thread(s) per stage ({}); going on with {}", decoders_.size(), jobs_, start_error,
                                      decoders_.size()));
    }

    // The calling thread reports progress and keeps the manifest current until every input is done.
    void report_until_done() {
        auto last_manifest = Clock::now();
        for (;;) {
            std::size_t o, s, f;
            {
                std::unique_lock l(mu_);
                finished_cv_.wait_for(l, std::chrono::seconds(1), [&] { return ok_ + skipped_ + failed_ == n_; });
                o = ok_, s = skipped_, f = failed_;
            }
            if (o + s + f == n_) break;
            if (worker_) continue;
            progress_.update(o, s, f);
            if (since(last_manifest) >= bs_.manifest_every_s) {
                std::lock_guard l(mu_);
                m_.wall_s = since(t_start_);
                try {
                    write_manifest_files(bs_.outdir, m_);
                } catch (const std::exception& e) { progress_.log(fmt::format("prep: {}", escape_control(e.what()))); }
                last_manifest = Clock::now();
            }
        }
    }

    void join_threads() {
        for (auto& t : decoders_) t.join();
        to_compute_.close();
        for (auto& t : computers_) t.join();
        to_write_.close();
        for (auto& t : writers_) t.join();
    }

    Chain& chain_;
    const ChainSettings& cs_;
    const std::vector<WorkItem>& work_;
    const BatchSettings& bs_;
    Manifest& m_;
    const BatchHooks& hooks_;
    const std::size_t n_;
    const int jobs_;
    const bool worker_;  // a supervised worker: the supervisor keeps the record
    Queue<Item> to_compute_, to_write_;
    std::counting_semaphore<> tokens_;
    std::mutex mu_;  // entries, counters, claimed outputs
    std::condition_variable finished_cv_;
    std::size_t ok_ = 0, skipped_ = 0, failed_ = 0;
    std::set<std::string> claimed_;
    std::atomic<std::size_t> next_{0};
    BatchProgress progress_;
    const Clock::time_point t_start_ = Clock::now();
    std::vector<std::thread> decoders_, computers_, writers_;
};

}  // namespace

std::size_t run_batch(Chain& chain, const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m, const BatchHooks& hooks) {
    return BatchRun(chain, work, bs, m, hooks).run();
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
            if (!fs::exists(out, ec))
                action = "process";
            else if (bs.overwrite)
                action = "process (replace existing output)";
            else if (bs.resume) {
                const std::string why = existing_output_problem(out, cs);
                action = why.empty() ? "skip (output exists and verifies)" : "process (existing output: " + why + ")";
            } else
                throw file_error(ErrorKind::usage, w.input, "output exists (--resume or --overwrite)");
        } catch (const Error& e) { action = fmt::format("FAIL {}", e.what()); }
        if (action.starts_with("FAIL"))
            ++would_fail;
        else if (action.starts_with("skip"))
            ++would_skip;
        else
            ++would_run;
        fmt::print("#{:<6} {} -> {}  [{}]\n", w.index, w.input, out.empty() ? "-" : out, action);
    }
    fmt::print(stderr,
               "prep --dry-run: {} to process, {} to skip, {} would fail (header checks only; pixel-level failures such as "
               "'no full disk' show only in a real run)\n",
               would_run, would_skip, would_fail);
    return would_fail;
}

}  // namespace aiaccel::cli::prep
