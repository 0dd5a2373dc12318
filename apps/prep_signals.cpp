// Signals and temporary files of `aiaccel prep`: signal names, the supervisor's signalfd, and the
// removal of temporary files (.NAME.tmp-PID-XXXXXXXX) of a given or of dead processes.
#include "apps/prep_signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <fmt/format.h>
#include <fstream>

#include "apps/prep_pipeline.hpp"

namespace aiaccel::cli::prep {
namespace fs = std::filesystem;

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

StopSignals::StopSignals() {
    sigset_t stop;
    sigemptyset(&stop);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {  // not those ignored on purpose (nohup, a background job's SIGINT)
        struct sigaction cur {};
        if (::sigaction(sig, nullptr, &cur) == 0 && cur.sa_handler != SIG_IGN) sigaddset(&stop, sig);
    }
    ::sigprocmask(SIG_BLOCK, &stop, &old_mask_);
    fd_ = ::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe_);
}

StopSignals::~StopSignals() {
    if (fd_ >= 0) ::close(fd_);
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

int StopSignals::take() {
    signalfd_siginfo si{};
    if (fd_ >= 0 && ::read(fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) return static_cast<int>(si.ssi_signo);
    return 0;
}

void StopSignals::restore_in_child() const {  // async-signal-safe
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
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

}  // namespace

// Gone: no such process, or a zombie (it has closed its files and only waits to be reaped).
bool process_gone(long pid) {
    if (pid <= 0) return false;
    if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string stat;
    std::getline(in, stat);
    const auto paren = stat.rfind(')');  // "PID (COMM) STATE …": COMM may hold spaces and parentheses
    return paren != std::string::npos && paren + 2 < stat.size() && (stat[paren + 2] == 'Z' || stat[paren + 2] == 'X');
}

bool temporaries_of_live_processes(const fs::path& outdir) {
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(outdir, ec))
        if (const long pid = temporary_pid(de.path().filename().string()); pid > 0 && !process_gone(pid)) return true;
    return false;
}

std::map<std::string, std::vector<fs::path>> stale_temporaries(const fs::path& outdir) {
    std::map<std::string, std::vector<fs::path>> found;
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(outdir, ec)) {
        std::string target;
        const long pid = temporary_pid(de.path().filename().string(), &target);
        if (pid > 0 && process_gone(pid)) found[target].push_back(de.path());
    }
    return found;
}

std::size_t remove_temporaries(const fs::path& outdir, long only_pid) {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(outdir, ec)) {
        const long pid = temporary_pid(de.path().filename().string());
        if (pid <= 0 || (only_pid > 0 ? pid != only_pid : !process_gone(pid))) continue;
        std::error_code rec;
        if (de.is_regular_file(rec) && fs::remove(de.path(), rec)) ++removed;
    }
    return removed;
}

}  // namespace aiaccel::cli::prep
