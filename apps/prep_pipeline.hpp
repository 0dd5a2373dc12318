// The batch engine of `aiaccel prep`: a streaming three-stage pipeline (decode → compute → write)
// over a list of inputs with a bounded number of images in flight, per-file failures, --resume,
// --dry-run, progress (a bar on a terminal, periodic lines otherwise) and the manifest.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "apps/prep_chain.hpp"
#include "apps/prep_manifest.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"

namespace aiaccel::cli::prep {

struct BatchSettings {
    std::filesystem::path outdir;
    int jobs = 2;                       // worker threads per stage; images in flight <= jobs + 2
    bool overwrite = false, resume = false;
    bool verify_checksum = true;        // refuse inputs whose DATASUM/CHECKSUM do not verify
    Compression compression = Compression::none;
    double manifest_every_s = 30;       // the manifest is also rewritten (atomically) while running
    std::map<std::string, std::vector<std::filesystem::path>> stale;  // stale_temporaries(outdir)
};

// One input of this shard: its position in the full sorted list and its path.
struct WorkItem {
    std::size_t index = 0;
    std::string input;
};

// Processes `work`, fills `m.entries` (list order), writes manifest + failures in outdir.
// Returns the number of failed inputs.
std::size_t run_batch(Chain& chain, const std::vector<WorkItem>& work, const BatchSettings& bs, Manifest& m);

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
