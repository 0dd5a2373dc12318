// One `aiaccel prep` run per output folder: flock(2) on lock files in the folder (prep_pipeline.hpp
// OutputLock), released however the process ends.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <thread>

#include "apps/prep_pipeline.hpp"
#include "apps/prep_signals.hpp"
#include "apps/prep_worker.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"

namespace aiaccel::cli::prep {
namespace fs = std::filesystem;

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

// The stamp "pid P on host H since …" of a lock file: true if it names a process of this host that
// has ended (its run was killed; a worker it left may still hold the lock on its way out).
bool stamp_of_ended_run(const fs::path& lock_file) {
    long pid = 0;
    char host[256] = {0}, mine[256] = {0};
    ::gethostname(mine, sizeof mine - 1);
    return std::sscanf(describe_holder(lock_file).c_str(), "pid %ld on host %255s", &pid, host) == 2 && std::strcmp(host, mine) == 0 &&
        process_gone(pid);
}

// Whether every holder of `lock_file` (for the folder lock: the shards holding their shard files, or
// else the whole-folder run) is a run that has ended.
bool holders_ended(const fs::path& outdir, const fs::path& lock_file, bool folder) {
    if (folder) {
        bool any = false;
        std::error_code ec;
        for (const auto& de : fs::directory_iterator(outdir, ec)) {
            const std::string name = de.path().filename().string();
            if (name.starts_with(".aiaccel-prep.shard-") && name.ends_with(".lock") && held(de.path())) {
                if (!stamp_of_ended_run(de.path())) return false;
                any = true;
            }
        }
        if (any) return true;
    }
    return stamp_of_ended_run(lock_file);
}

// flock on `p`, retried while the file we locked is no longer the one at `p` (a finishing run unlinks
// its lock file: whoever locked the unlinked inode must lock the new file instead).
int lock_file(const fs::path& p, int how, const std::string& outdir) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        const int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            throw file_error(ErrorKind::write_failed, outdir,
                             fmt::format("cannot create the lock file {}: {}", p.filename().string(), std::strerror(errno)));
        if (::flock(fd, how | LOCK_NB) != 0) {
            ::close(fd);
            return -1;
        }
        struct stat a {
        }, b{};
        if (::fstat(fd, &a) == 0 && ::stat(p.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) return fd;
        ::close(fd);
    }
    throw file_error(ErrorKind::write_failed, outdir, "cannot take the lock file (it keeps being replaced)");
}

// lock_file, but a lock held only by the worker processes of runs that have ended (kill -9 of the
// supervisor: the worker gets SIGTERM and is exiting) is waited for, up to 30 s. -1: held by a run.
int lock_file_waiting(const fs::path& outdir, const fs::path& p, int how, bool folder, bool& waited) {
    const auto t0 = std::chrono::steady_clock::now();
    bool said = false;
    for (;;) {
        const int fd = lock_file(p, how, outdir.string());
        if (fd >= 0) return fd;
        const auto waiting = std::chrono::steady_clock::now() - t0;
        if (!holders_ended(outdir, p, folder) || waiting > std::chrono::seconds(30)) return -1;
        waited = true;
        if (!said && waiting > std::chrono::seconds(1)) {
            fmt::print(stderr, "prep: {}: waiting for the worker process of an ended run to exit\n", escape_control(outdir.string()));
            said = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace

OutputLock::OutputLock(const fs::path& outdir, const std::string& shard, const std::string& command) {
    whole_folder_ = shard.empty() || shard == "0/1";
    folder_lock_ = outdir / ".aiaccel-prep.lock";
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    const std::string me = fmt::format("pid {} on host {} since {}: {}\n", ::getpid(), host, utc_now_iso8601(), escape_control(command));
    auto busy = [&](const std::string& who) {
        return Error(ErrorKind::usage,
                     fmt::format("{}: another aiaccel prep run is using this output folder ({}); wait for it, or use another "
                                 "folder (shards of one batch: --shard I/N)",
                                 outdir.string(), who));
    };
    auto stamp = [&](int fd) {
        if (::ftruncate(fd, 0) == 0) write_all(fd, me);
    };
    // The whole folder: exclusive. A shard: the folder shared (with the other shards of its batch, not
    // with a whole-folder run) and its own shard file exclusive (the same shard twice is refused).
    folder_fd_ = lock_file_waiting(outdir, folder_lock_, whole_folder_ ? LOCK_EX : LOCK_SH, true, waited_);
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
    shard_fd_ = lock_file_waiting(outdir, shard_lock_, LOCK_EX, false, waited_);
    if (shard_fd_ < 0) {
        const std::string who = describe_holder(shard_lock_);
        ::close(folder_fd_);
        folder_fd_ = -1;
        throw busy(who);
    }
    stamp(shard_fd_);
}

std::vector<int> OutputLock::fds() const {
    std::vector<int> v;
    for (int fd : {folder_fd_, shard_fd_})
        if (fd >= 0) v.push_back(fd);
    return v;
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

}  // namespace aiaccel::cli::prep
