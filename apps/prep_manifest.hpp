// The record of a `aiaccel prep` run: manifest.json (every input of the shard: its identity, its
// output, the output's checksums, status, reason, seconds) and failures.txt (one line per failed
// input), both written atomically; and the coverage check of `aiaccel merge-manifests`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aiaccel::cli::prep {

enum class Status { ok, skipped, failed, planned };

// The steps an input's time is split into (docs/architecture.md §4), in pipeline order: decoder
// (header: stat, header read and checks, output claim; precheck; checksum; decode; input_sha256),
// computer (backend_wait: for a backend that takes one call at a time; psf: the channel's PSF, once
// per process; then the chain's steps), writer
// (write; output_checksum: DATASUM/CHECKSUM; rename; output_identity: the output's two sha256).
extern const std::vector<std::string> kTimedSteps;
using StepTimes = std::map<std::string, double>;  // seconds by step name
std::string_view to_string(Status s);  // "ok", "skipped", "failed", "planned"

struct ManifestEntry {
    std::size_t index = 0;  // position in the full sorted input list (all shards)
    std::string input;
    std::uintmax_t input_size = 0;
    std::string input_sha256;  // "" when not computed (--dry-run, unreadable input)
    std::string output;  // "" when the input failed before its output was named
    std::string output_sha256;  // sha256 of the output file as written
    std::string output_content_sha256;  // same, without the CHECKSUM/DATASUM cards (time-stamped)
    std::string output_datasum;  // FITS DATASUM of the image HDU
    Status status = Status::planned;
    std::string reason;  // failures: the error; skipped: why
    std::string error_kind;  // failures: unreadable, not_aia, missing_keyword, bad_value, ...
    double seconds = 0;  // wall time from its decode to its write (queue waits included)
    std::string stages;  // e.g. "deconvolve=cpu register=reference"
    std::vector<std::string> warnings;  // what aiapy would warn about for this input (e.g. the plate scale)
    StepTimes timings;  // where `seconds` went, by step (the rest of it waited in queues)
};

struct Manifest {
    std::string tool;  // "aiaccel 0.1.0"
    std::string command;  // the command line
    std::string level, steps, backend, precision, started_utc, finished_utc;
    std::string shard = "0/1";
    std::size_t inputs_total = 0;  // size of the full sorted list (all shards)
    std::string inputs_sha256;  // identity of that list (prep_inputs.hpp list_sha256)
    double wall_s = 0;
    std::vector<ManifestEntry> entries;  // this shard's inputs, in list order
};

// Paths, reasons and warnings are written through escape_control (core/strings.hpp): control
// characters and invalid UTF-8 of odd file names become \n, \t, \xNN, so every record stays one line.
nlohmann::json to_json(const ManifestEntry& e);
ManifestEntry entry_from_json(const nlohmann::json& e, const std::string& where);
nlohmann::json to_json(const Manifest& m);
// The mean seconds per step over the entries that were processed (status ok), kTimedSteps order, and
// "queued": the rest of their `seconds`. Empty when none was.
std::vector<std::pair<std::string, double>> time_budget(const Manifest& m);
// One failures.txt line: input<TAB>kind<TAB>reason<LF>, each field escaped.
std::string failure_line(const ManifestEntry& e);
Manifest manifest_from_json(const nlohmann::json& j, const std::string& where);
Manifest read_manifest(const std::string& path);  // Error(unreadable / bad_value) naming the file

// manifest.json / failures.txt for the whole list, manifest.shard-I-of-N.json / failures.shard-I-of-N.txt
// for a shard, so shards sharing OUTDIR never overwrite each other's record.
std::filesystem::path manifest_path(const std::filesystem::path& outdir, const std::string& shard);
std::filesystem::path failures_path(const std::filesystem::path& outdir, const std::string& shard);
// Both files, each atomically (temporary file + rename).
void write_manifest_files(const std::filesystem::path& outdir, const Manifest& m);

// merge-manifests: the union of shard manifests of one batch, and what is wrong with it.
struct MergeResult {
    Manifest merged;  // entries sorted by index; shard "merged"
    std::vector<std::size_t> gaps;  // indices no manifest lists
    std::vector<std::string> duplicates;  // "input #k ... listed by A and B" / "output X written for #i and #j"
    std::vector<std::string> mismatches;  // manifests of different batches or settings
    std::size_t ok = 0, skipped = 0, failed = 0, planned = 0;
};
MergeResult merge_manifests(const std::vector<std::pair<std::string, Manifest>>& manifests);

}  // namespace aiaccel::cli::prep
