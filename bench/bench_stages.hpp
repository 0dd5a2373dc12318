// One measurable run of a stage (psf, deconvolve, register) through the Backend seam, or of a floor
// (fftw-floor, mkl-floor: that FFT provider alone doing the 100 r2c/c2r transforms of a 25-iteration
// Richardson–Lucy with the 2-D plans the cpu backend uses, fast/cpu/fft_provider.hpp cached_plans;
// memcpy-floor: one copy of the image), on the inputs of bench_inputs.hpp. The Google Benchmark programs and `aiaccel bench` time
// the same closures, so both measure the same thing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/backend.hpp"

namespace aiaccel::bench {

inline constexpr const char* kFftwFloor = "fftw-floor";  // rows of stage "deconvolve"
inline constexpr const char* kMklFloor = "mkl-floor";  // the same with oneMKL (builds with -Dmkl)
inline constexpr const char* kMemcpyFloor = "memcpy-floor";  // rows of stage "register"

struct StageSpec {
    std::string stage;  // psf | deconvolve | register
    std::string backend;  // reference | cpu | cuda | fftw-floor | mkl-floor | memcpy-floor
    std::string case_name = "derived-4096";  // kDerivedCase, kRealCase (register, memcpy-floor), kPsfCase (psf)
    Precision precision = Precision::f64;
    int threads = 1;
    std::string fft = {};  // the cpu backend's FFT provider (fftw, mkl, auto): AIACCEL_FFT for this run; "" leaves it
    std::string cpu_loop = {};  // cpu deconvolve: fused or unfused (AIACCEL_DECONVOLVE_CPU for this run); "" leaves it
};
std::string label(const StageSpec& s);  // "deconvolve/cpu/f32/derived-4096/threads:2" (+ "/fft:mkl", "/loop:unfused")

struct PreparedRun {
    std::function<void()> run;  // one complete run of the stage; buffers, plans and inputs are made before
    double pixels = 0;  // output pixels per run (for pixels/s)
    std::vector<std::string> notes;
    double plan_s = -1;  // FFT floors: seconds to make a new plan pair (-1: not measured)
    std::shared_ptr<Backend> backend;  // the backend that runs (none for floors): its device timings
};

// Makes the backend and binds the inputs. Throws aiaccel::Error(usage) when the run cannot happen
// here: a backend not available here (the probe's reason), or a stage or precision its capabilities
// (core/backend.hpp) say it does not run.
PreparedRun prepare(const StageSpec& s);

// The floors belonging to a stage: deconvolve -> fftw-floor, register -> memcpy-floor; "" otherwise.
std::string floor_backend(const std::string& stage);
// The FFT floor of the provider that `fft` (fftw, mkl, auto) picks at `precision`: "fftw-floor", "mkl-floor".
std::string fft_floor(const std::string& fft, Precision precision);
// Cases of a stage: psf {psf-171}; deconvolve {derived-4096}; register {derived-4096, real-2048}.
std::vector<std::string> stage_cases(const std::string& stage);
// Whether `stage` has its own rows at `precision`: not psf at f32, since every backend computes the
// PSF in float64 whatever the precision asked (a float32 FFT PSF fails the sum check,
// docs/algorithms.md §1.3), so an f32 row would time the same float64 run under another name.
bool stage_has_precision(const std::string& stage, Precision precision);

}  // namespace aiaccel::bench
