// External candidates of `aiaccel validate --candidate NAME[:STAGE]='COMMAND {input} {output} ...'`: any
// program, judged like a built-in backend. Each candidate is one more Backend: it writes the stage's
// input to a temporary FITS file, runs the command (/bin/sh -c, its own process group, stdin from
// /dev/null, a timeout), and reads the FITS file the command wrote. The runner compares that with the
// reference (or a synthetic case's exact answer) through the same metrics and tolerance table, or a
// bound named on the command line (--candidate-bound STAGE=VALUE).
//
// Placeholders (replaced by shell-quoted values; any other brace text is left as it is):
//   {input}      the stage's input FITS with the case's AIA header (register: the level-1 map in its
//                own dtype; deconvolve: the image, float64, so `aiaccel deconvolve {input}` reads it)
//   {output}     where the command must write its result (a FITS file; register: a level-1.5 map)
//   {psf}        deconvolve: the PSF, float64 FITS of the image's shape
//   {iterations} deconvolve: Richardson-Lucy iterations
//   {channel}    psf: the channel in Å; register/deconvolve: the input's WAVELNTH (0 when unknown)
//   {order}      register: spline order (3, as aiapy)
//   {missing}    register: the fill value for pixels outside the input (aiapy's default: nanmin)
//   {precision}  f64 or f32; a template without it runs (and is judged) as f64 only
//   {preflight}  psf: 1 for the pre-flight core PSF, else 0; without it those cases are SKIPPED
// The stage is STAGE when given, else read from the template: {psf} or {iterations} → deconvolve;
// {channel} without {input} → psf; otherwise register.
//
// Outcomes: exit 0 with a readable FITS → compared and judged. Exit status 1-127 → the candidate
// refuses the input (register: PASSED only where the reference refuses too; other stages: FAILED).
// A signal, a status ≥ 128 (a shell's report of a signal), the timeout, or exit 0 with no or an
// unreadable output → FAILED with that reason. Nothing a candidate does ends the run.
#pragma once

#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/backend.hpp"
#include "core/fits_header.hpp"
#include "validate/result_row.hpp"
#include "validate/tolerances.hpp"

namespace aiaccel::validate {

// A backend that hands its input to another program as a FITS file needs the input's header, which
// Backend::deconvolve does not carry (pixels only): the deconvolve driver gives it the case's real AIA
// header (a synthetic case's AIA-like one) through this, just before the call.
class InputHeaderSink {
public:
    virtual ~InputHeaderSink() = default;
    virtual void next_input_header(const FitsHeader& h) = 0;  // for the next call only
};

struct CandidateSpec {
    std::string name;  // the row's backend name
    std::string stage;  // psf, deconvolve or register
    std::string command;  // the template
};

// Parses "NAME[:STAGE]=COMMAND"; Error(usage) naming the problem (bad name, unknown stage, no {output}).
CandidateSpec parse_candidate(std::string_view text);
// Parses "STAGE=VALUE" (max|Δ|/max bound for the candidates' rows of STAGE); Error(usage) otherwise.
std::pair<std::string, double> parse_candidate_bound(std::string_view text);
// The stage a template implies (see above).
std::string infer_stage(std::string_view command);
// The template with each placeholder replaced by its shell-quoted value; unknown {names} are kept.
std::string expand_command(std::string_view command, const std::map<std::string, std::string>& values);

// What one run of a command did.
struct CommandResult {
    bool timed_out = false;
    bool signalled = false;
    int exit_status = 0;  // exit status, or the signal number when `signalled`
    double wall_s = 0;
    double peak_rss_mib = 0;  // the largest VmHWM among the command's processes (polled every ≤ 10 ms)
    std::string log_tail;  // last lines of its stdout+stderr
};
// Runs `/bin/sh -c command` in `dir` in a new process group with stdin /dev/null and stdout+stderr to
// dir/log; past `timeout_s` the group gets SIGTERM, then SIGKILL after 2 s. Leftover group members
// are killed when it ends. Error(internal) only when the command cannot be started at all.
CommandResult run_command(const std::string& command, const std::filesystem::path& dir, double timeout_s);

struct CandidateOptions {
    double timeout_s = 600;
    std::map<std::string, double> bounds;  // stage → max|Δ|/max bound named on the command line
    std::filesystem::path temp_root;  // empty: the system temporary folder
};

// The candidates of one run. Only one set may exist at a time (its backend entries are plain function
// pointers that find their spec through it).
class CandidateSet {
public:
    CandidateSet(std::vector<CandidateSpec> specs, CandidateOptions opt);
    ~CandidateSet();
    CandidateSet(const CandidateSet&) = delete;
    CandidateSet& operator=(const CandidateSet&) = delete;

    const std::vector<CandidateSpec>& specs() const { return specs_; }
    std::vector<std::string> names() const;
    std::vector<std::string> stages() const;  // the stages the candidates implement, once each
    // `builtin` followed by one entry per candidate (the runner's registry).
    std::vector<BackendEntry> registry(std::span<const BackendEntry> builtin) const;
    // The options that bring one candidate back, for its rows' repro lines: " --candidate 'NAME:STAGE=CMD' ...".
    std::string repro_options(const CandidateSpec& spec) const;

    // Runner hooks. after_row: a candidate row gets the command's own time and peak memory, a note on
    // how it ran and a repro line with its --candidate option; a failure of the command is named as such. bounds: the user's bound for a
    // candidate row (structural checks + max|Δ|/max ≤ VALUE), nullopt to use the tolerance table.
    void after_row(ResultRow& row, Backend& be) const;
    std::optional<std::vector<const Tolerance*>> bounds(const ResultRow& row, Against against) const;

private:
    const CandidateSpec* find(std::string_view name) const;
    std::vector<CandidateSpec> specs_;
    CandidateOptions opt_;
    std::vector<std::unique_ptr<Tolerance>> user_bounds_;  // owned rows the bounds hook points into
    std::deque<std::string> bound_texts_;  // their reasons (stable addresses)
};

}  // namespace aiaccel::validate
