// The per-image chain of `aiaccel prep` (aiapy's documented order, docs/preparing_data.rst of aiapy
// 0.10.2/0.12.1): update_pointing → psf.deconvolve (level 1.6) → calibrate.register →
// correct_degradation → exposure normalisation. Deconvolve and register go through the Backend seam;
// the header/data corrections are the reference ports (cheap, exact). One PSF per channel per process.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "apps/prep_manifest.hpp"
#include "core/aia_image.hpp"
#include "core/backend.hpp"
#include "core/stopwatch.hpp"
#include "reference/calibrate_reference.hpp"

namespace aiaccel::cli::prep {

extern const std::vector<std::string> kStepOrder;  // pointing, deconvolve, register, degradation, exposure

struct ChainSettings {
    std::string level = "1.5";  // what the outputs are: level_for(steps) (cmd_prep sets it)
    std::set<std::string> steps;
    AiapyVersion version = kDefaultAiapyVersion;
    int iterations = 25;
    int calibration_version = 10;
    std::optional<reference::PointingTable> pointing;
    std::optional<reference::ResponseTable> response;
    bool output_f32 = false;  // --output-dtype float32: float64 results written as float32 (aiapy writes float64)
    std::string plan() const;  // "pointing → register → exposure"
    // aiapy changes the level only in register (LVL_NUM = 1.5); deconvolve before it makes "1.6" (this
    // project's name for deconvolved level 1.5). Without register the outputs stay level 1.
    static std::string level_for(const std::set<std::string>& steps);
    // The HISTORY line every output carries; --resume accepts an existing output only if it has it
    // (float32 output: the line says so, so float64 and float32 outputs never stand in for each other).
    std::string signature() const;
};

// aia_lev1.5_171a_2013_03_10t12_00_11_34z.fits: level, channel, DATE-OBS with -:. → _ and T → t, the
// style of JSOC/sunpy export names (aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1.fits).
std::string output_name(const AiaHeader& h, const std::string& level);

// Checks on the header alone (before any pixel is decoded): an AIA image of a known channel, level 1
// (LVL_NUM 1 when present), DATE-OBS present, and a PSF for the channel when deconvolving.
// Error(not_aia / bad_value / missing_keyword) naming the file.
void check_input_header(const AiaHeader& h, const ChainSettings& s);

class Chain {
public:
    // `backend` runs deconvolve and register; a stage its capabilities `caps` say it cannot run at
    // this precision runs on the reference backend instead, announced once on stderr (here) and named
    // in each manifest entry.
    Chain(ChainSettings s, std::unique_ptr<Backend> backend, const Capabilities& caps, StageOptions opt);
    // Runs the selected steps on `img` in place; returns "deconvolve=cpu register=reference".
    // `warnings` receives what aiapy would warn about (update_pointing's plate scale, NaN table values);
    // each distinct one is also printed once per process on stderr.
    // Thread-safe: calls into a backend whose capabilities are not thread_safe (a multi-threaded one)
    // are serialised; the reference's calls run concurrently (one image per worker).
    // `times` receives the seconds of each step run (kTimedSteps names; psf: the channel's PSF, once
    // per process; backend_wait: waiting for a serialised backend).
    std::string run(AiaImage& img, std::vector<std::string>* warnings = nullptr, StepTimes* times = nullptr);
    const ChainSettings& settings() const { return s_; }
    std::string_view backend_name() const { return backend_->name(); }

private:
    const Image<double>& psf_for(int channel);
    // The backend's lock when its calls are serialised; the time waited for it goes to backend_wait
    // (and sw starts the step's lap after it).
    std::unique_lock<std::mutex> backend_lock(Stopwatch& sw, StepTimes* times);
    Image<double> deconvolve(const Image<double>& data, const Image<double>& psf, std::string& used, Stopwatch& sw, StepTimes* times);
    AiaImage register_image(const AiaImage& img, std::string& used, Stopwatch& sw, StepTimes* times);
    void warn(const std::string& in, const std::vector<std::string>& found, std::vector<std::string>* warnings);

    ChainSettings s_;
    std::unique_ptr<Backend> backend_, reference_;
    StageOptions opt_;
    bool exclusive_;  // serialise calls into backend_
    bool deconvolve_on_backend_ = true, register_on_backend_ = true;  // else: on reference_
    std::mutex backend_mutex_, psf_mutex_, warned_mutex_;
    std::set<std::string> warned_;
    std::map<int, std::shared_future<Image<double>>> psfs_;
};

}  // namespace aiaccel::cli::prep
