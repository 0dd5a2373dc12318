// Signals and temporary files of `aiaccel prep`: the names of signals in messages, and the
// SIGINT/SIGTERM/SIGHUP delivery of the supervisor (a signalfd), restored when it ends.
#pragma once

#include <signal.h>

#include <filesystem>
#include <string>

namespace aiaccel::cli::prep {

std::string signal_name(int sig);  // "SIGSEGV", …, else "signal N"

// True if process `pid` of this host has ended: no such process, or a zombie (its files are closed).
bool process_gone(long pid);

// True if OUTDIR holds a temporary file (.NAME.tmp-PID…) of a process that has not ended.
bool temporaries_of_live_processes(const std::filesystem::path& outdir);

// While alive: SIGINT/SIGTERM/SIGHUP (those not ignored on purpose: nohup, a background job's SIGINT)
// are blocked and readable on fd(); SIGPIPE is ignored. The destructor restores both.
class StopSignals {
public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    int fd() const { return fd_; }
    int take();  // the next pending signal read from fd(), 0 if none (non-blocking)
    // For a forked child before exec: the signal mask and SIGPIPE action this process had before.
    void restore_in_child() const;

private:
    int fd_ = -1;
    sigset_t old_mask_{};
    struct sigaction old_pipe_ {};
};

}  // namespace aiaccel::cli::prep
