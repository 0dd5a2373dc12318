// `aiaccel bench`: every stage × backend × precision × threads × case of bench_stages.hpp timed in this
// process on the inputs of bench_inputs.hpp, the floors, and (optionally) aiapy timed in the same run
// on the same inputs (bench/aiapy_baseline.hpp), as result rows of kind "speed"
// (validate/result_row.hpp) that `aiaccel report` renders.
//
// Timing: wall clock (steady_clock) of complete runs. One warm-up run first (it absorbs FFTW
// planning, first-touch page faults and lazy initialisation; not counted); then `repetitions` runs and
// the row's time is their MEDIAN (all runs are in extra metrics min_s / max_s). When the warm-up alone
// took longer than max_warmup_s (the reference's PSF, aiapy's PSF) it is the only run and is reported
// as a cold run. Peak RSS: the process's VmHWM over the warm-up and the measured runs (inputs included).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "validate/result_row.hpp"

namespace aiaccel::bench {

struct BenchOptions {
    std::vector<std::string> stages{"psf", "deconvolve", "register", "floors"};
    std::vector<std::string> backends{"reference", "cpu", "cuda"};
    std::vector<std::string> precisions{"f64", "f32"};
    std::vector<int> threads{1, 2};
    // FFT providers of the cpu rows and the FFT floors (fftw, mkl, auto), each timed, side by side;
    // empty: the process's choice (AIACCEL_FFT).
    std::vector<std::string> ffts;
    std::vector<std::string> cpu_loops;  // cpu deconvolve loops timed side by side (fused, unfused); empty: AIACCEL_DECONVOLVE_CPU
    int repetitions = 3;
    double max_warmup_s = 20;
    bool baseline_aiapy = false;
    std::vector<std::string> aiapy_versions{"0.10.2", "0.12.1", "0.12.1-jax"};
    std::vector<std::string> aiapy_stages{"psf", "deconvolve", "register"};
    std::filesystem::path oracle_dir;  // holds venv-<version>/ (default: <source root>/.oracle)
    std::filesystem::path out_dir;  // rows.json, inputs/ (the PSF handed to aiapy), aiapy-*.json
    std::string repro_prefix = "aiaccel bench";
    std::function<void(const std::string&)> log;  // progress lines
};

struct Measurement {
    double time_s = 0, min_s = 0, max_s = 0, warmup_s = 0, peak_rss_mib = 0;
    int runs = 0;  // measured runs (0: the warm-up was the only run)
};
// Warm-up + repetitions as described above.
Measurement measure(const std::function<void()>& run, int repetitions, double max_warmup_s);
// "median of 3 runs (min …, max …) after 1 warm-up run of … s, not counted (<warmup_absorbs>)".
std::string timing_note(const Measurement& m, int repetitions, const std::string& warmup_absorbs);

// Runs everything selected; calls on_row for each row as it is made (for a live table).
std::vector<validate::ResultRow> run_bench(const BenchOptions& opt, const std::function<void(const validate::ResultRow&)>& on_row);

}  // namespace aiaccel::bench
