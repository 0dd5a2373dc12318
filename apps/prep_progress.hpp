// The progress display of `aiaccel prep` (the batch engine and its supervisor): a redrawn bar on a
// terminal, a plain line every 10 s otherwise (logs, Slurm).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <fmt/format.h>
#include <mutex>
#include <string>

namespace aiaccel::cli::prep {

using Clock = std::chrono::steady_clock;

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

}  // namespace aiaccel::cli::prep
