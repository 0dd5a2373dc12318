// The one result-row schema that tests, `aiaccel validate` and `aiaccel bench` emit and that
// `aiaccel report` renders (docs/validation.md §5). One row per case × stage × backend × precision.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "validate/compare.hpp"

namespace aiaccel::validate {

enum class Verdict { passed, mistrusted, failed, skipped };
std::string_view to_string(Verdict v);  // "PASSED", "MISTRUSTED", "FAILED", "SKIPPED"
std::optional<Verdict> parse_verdict(std::string_view s);

struct MachineInfo {
    std::string cpu, os, compiler;  // e.g. "AMD EPYC (2 cores, AVX2 FMA)", "Linux 6.18", "g++ 12.2"
    int threads = 0;
    std::string gpu;  // "" when none
    static MachineInfo here();  // describes this machine
};

struct ResultRow {
    std::string kind = "accuracy";  // "accuracy" (validate) or "speed" (bench)
    std::string stage;  // psf, deconvolve, register, prep, ...
    std::string backend;  // reference, cpu, cuda, aiapy-0.10.2, ...
    std::string fft;  // the FFT library the row's backend used ("fftw 3.3.10", "mkl 2025.3", "cufft"); "" when unknown
    std::string precision;  // f64, f32
    std::string target = "none";  // what ran (Backend::target): the Highway target ("AVX3", ...), the device, or "none"
    std::string case_name;  // e.g. "psf-171", "derived-1600x2-it25"
    std::string against;  // "aiapy-0.10.2" or "reference"
    std::string input_sha256;
    Metrics metrics;
    std::vector<std::pair<std::string, double>> extra;  // stage-specific metrics (sum_minus_1, edge_flips, ...)
    std::vector<double> iteration_max_rel;  // deconvolve: max|Δ|/max against the reference after each iteration (1..N); empty when not measured
    double bound = 0;  // tolerance applied (main metric)
    std::string bound_metric;  // which metric the bound applies to
    std::string bound_reason;
    Verdict verdict = Verdict::skipped;
    std::string skip_reason;  // for SKIPPED
    double time_s = 0;  // wall time of the measured run
    double peak_rss_mib = 0;
    std::string repro;  // one-line command that reproduces this row
    std::vector<std::string> artifacts;  // files written for this row (FITS dumps, PNGs), relative to the report dir
    std::vector<std::string> notes;  // what else a reader needs: why it failed, cache hits, whole-output observations
    MachineInfo machine;
};

nlohmann::json to_json(const ResultRow& r);
ResultRow row_from_json(const nlohmann::json& j);

}  // namespace aiaccel::validate
