// The batch engine of `aiaccel prep`: a streaming three-stage pipeline (decode → compute → write)
// over a list of inputs with a bounded number of images in flight, per-file failures, --resume,
// --dry-run, progress (a bar on a terminal, periodic lines otherwise) and the manifest.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "apps/prep_chain.hpp"
#include "apps/prep_manifest.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"

namespace aiaccel::cli::prep {

struct BatchSettings {
    std::filesystem::path outdir;
    int jobs = 2;  // worker threads per stage; images in flight <= jobs + 2
    bool overwrite = false, resume = false;
    bool verify_checksum = true;  // refuse inputs whose DATASUM/CHECKSUM do not verify
    Compression compression = Compression::none;
    double manifest_every_s = 30;  // the manifest is also rewritten (atomically) while running
    std::map<std::string, std::vector<std::filesystem::path>> stale;  // stale_temporaries(outdir)
    std::set<std::string> claimed_before;  // outputs of inputs an earlier worker process already handled
    std::set<std::size_t> retried;  // inputs in flight when a worker crashed: their output may be its
    std::vector<int> lock_fds;  // OutputLock::fds(): inherited by worker processes, so the folder stays locked until the last ends
};

// One input of this shard: its position in the full sorted list and its path.
struct WorkItem {
    std::size_t index = 0;
    std::string input;
};

// How a supervised worker process reports (worker_hooks); empty: run_batch keeps the record itself.
struct BatchHooks {
    std::function<void(std::size_t index)> started;  // a decoder took input #index
    std::function<void(const ManifestEntry&)> finished;  // its entry is final
};

// Processes `work`, fills `m.entries` (list order), writes manifest + failures in outdir (not with
// hooks: then the supervisor does). Returns the number of failed inputs. A failure to allocate is that
// input's failure ("out of memory while decoding"); a thread the system refuses means fewer threads,
// none at all one Error. Never std::terminate.
std::size_t run_batch(Chain& chain, const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m, const BatchHooks& hooks = {});

// Crash isolation. `aiaccel prep` supervises: supervise_batch runs the batch in a worker process (the
// same command line plus --internal-worker=IN,OUT,CRASH,ROUND, a fresh exec, so no thread or GPU state
// is inherited). The worker reads its assignment (list indices; outputs already claimed) from IN,
// reports each input's start and final manifest entry on OUT, and its crash handler (SIGSEGV, SIGFPE,
// SIGBUS, SIGILL, SIGABRT) writes the input and stage the crashing thread was on to CRASH. When the
// worker dies by such a signal, that input fails ("decoder crashed: SIGSEGV"), its temporaries are
// removed, and a new worker goes on with the rest (inputs in flight without a culprit are retried one
// per worker). SIGINT/SIGTERM/SIGHUP to the supervisor go to the worker; then its temporaries are
// removed, the manifest is written and the run ends with `signal` set (exit 128 + signal).
struct WorkerLink {
    int in = -1, out = -1, crash = -1, round = 0;
};
WorkerLink parse_worker_link(const std::string& spec);
void read_worker_assignment(const WorkerLink& l, std::vector<WorkItem>& work, std::set<std::string>& claimed, std::set<std::size_t>& retried);
// Installs the crash handler and says "ready" (with the backend's name) to the supervisor.
BatchHooks worker_hooks(const WorkerLink& l, const std::string& backend_name);

struct Supervised {
    std::size_t failed = 0;
    int signal = 0;  // the run was interrupted by this signal
    int worker_exit = -1;  // > 0: the worker failed before processing (it printed why); its exit code
};
Supervised supervise_batch(const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m);

// One run per output folder: flock(2) on OUTDIR/.aiaccel-prep.lock, released when the process ends
// however it ends. A whole-list run takes it exclusively; a --shard I/N run takes it shared plus
// OUTDIR/.aiaccel-prep.shard-I-N.lock exclusively, so the shards of one batch share the folder but
// not with a whole-list run, nor the same shard twice. The lock files hold "pid P on host H since T:
// COMMAND"; a refused run gets Error(usage) quoting the holder(s). A run that ends removes its files.
class OutputLock {
public:
    OutputLock(const std::filesystem::path& outdir, const std::string& shard, const std::string& command);
    ~OutputLock();
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;
    bool whole_folder() const { return whole_folder_; }
    // The locked descriptors. Worker processes inherit them: a worker that outlives its supervisor
    // (kill -9; PR_SET_PDEATHSIG then ends it) keeps the folder locked until it has gone.
    std::vector<int> fds() const;
    // Whether taking the lock waited for such a worker: its temporary files may outlive the lock briefly.
    bool waited() const { return waited_; }

private:
    int folder_fd_ = -1, shard_fd_ = -1;
    bool whole_folder_ = true, waited_ = false;
    std::filesystem::path folder_lock_, shard_lock_;
};

// Removes this project's temporary files (.NAME.tmp-PID-XXXXXXXX, .NAME.tmp-PID) in outdir: those of
// process `pid`, or with pid 0 those whose process no longer runs on this host. Returns how many.
std::size_t remove_temporaries(const std::filesystem::path& outdir, long pid);

// --dry-run: what run_batch would do for each input (header-only reads), printed one line per input
// on stdout; nothing is written. Returns the number of inputs that would fail.
std::size_t dry_run(const ChainSettings& cs, const std::vector<WorkItem>& work, const BatchSettings& bs);

// --resume's test for an existing output: CFITSIO DATASUM/CHECKSUM verify, and its HISTORY holds the
// chain's signature (same level, steps and aiapy semantics). Returns "" if usable, else why not.
std::string existing_output_problem(const std::string& path, const ChainSettings& cs);

// Hidden temporary files (.NAME.tmp-PID-*, core/fits_write.cpp) in outdir whose process no longer runs
// on this host, by the output NAME they were for. The pipeline removes those of the outputs it claims
// (only the process that owns an output touches its temporaries, so shards sharing OUTDIR are safe).
std::map<std::string, std::vector<std::filesystem::path>> stale_temporaries(const std::filesystem::path& outdir);

std::string_view error_kind_name(ErrorKind k);

}  // namespace aiaccel::cli::prep
