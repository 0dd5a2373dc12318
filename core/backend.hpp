// The one seam between the commands/harness and the implementations (docs/architecture.md §2): a Backend runs the
// three stages; the registry (registry/backend_registry.hpp) lists the backends and says whether each
// is available here and, if not, why. No macro dispatch in callers.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/aia_image.hpp"
#include "core/aiapy_version.hpp"
#include "core/availability.hpp"
#include "core/image.hpp"

namespace aiaccel {

enum class Precision { f64, f32 };
inline std::string_view to_string(Precision p) { return p == Precision::f64 ? "f64" : "f32"; }
inline std::optional<Precision> parse_precision(std::string_view s) {
    if (s == "f64") return Precision::f64;
    if (s == "f32") return Precision::f32;
    return std::nullopt;
}

struct StageOptions {
    Precision precision = Precision::f64;
    int threads = 0;  // 0: the backend's default
};

struct PsfRequest {
    int channel = 171;
    bool use_preflight_core = false;
    AiapyVersion version = kDefaultAiapyVersion;
};
// A Richardson–Lucy estimate as a backend holds it after `iteration` iterations (1..total): rows×cols,
// row-major, in its compute precision (exactly one of f64 / f32 is set). Valid only during the call.
struct EstimateView {
    int iteration = 0;
    std::size_t rows = 0, cols = 0;
    const double* f64 = nullptr;
    const float* f32 = nullptr;
    double at(std::size_t p) const { return f64 ? f64[p] : double(f32[p]); }
};
using EstimateHook = std::function<void(const EstimateView&)>;

struct DeconvolveRequest {
    int iterations = 25;
    bool clip_negative = true;
    // Called after each iteration (done, total) by a backend whose capabilities say `progress`.
    std::function<void(int, int)> on_iteration = {};
    // Called after each iteration with the estimate by a backend whose capabilities say `estimates`
    // (validate's per-iteration error, docs/validation.md §2.2), on the calling thread, between
    // iterations. It may throw to stop the run; the exception leaves deconvolve().
    EstimateHook on_estimate = {};
};
struct RegisterRequest {
    std::optional<double> missing;  // default nanmin, as aiapy
    int order = 3;
    bool full_frame = false;
};

// aiapy's deconvolve contract, the same for every backend: image and PSF of one even shape
// (irfft2 of an odd width returns width−1), iterations ≥ 0. Error(bad_value / usage) otherwise.
void check_deconvolve_inputs(const Image<double>& image, const Image<double>& psf, int iterations);
// A PSF a user supplies (`deconvolve --psf`): every value finite and a positive sum; otherwise
// Richardson-Lucy divides by zero or NaN and returns an all-NaN image. Error(bad_value) naming `file`.
void check_psf_values(const Image<double>& psf, const std::string& file);

// Device-event times of a backend's last call of one stage, milliseconds (device backends only):
// host→device copies, device work, device→host copies. `valid` is false when nothing was timed or the
// events could not be read (`error` says why).
struct DeviceTiming {
    double upload_ms = 0, compute_ms = 0, download_ms = 0;
    bool valid = false;
    std::string error = "no call timed yet";
};

enum class Stage { psf, deconvolve, register_image };
inline std::string_view to_string(Stage s) { return s == Stage::psf ? "psf" : s == Stage::deconvolve ? "deconvolve" : "register"; }

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string_view name() const = 0;
    virtual bool supports(Precision p) const = 0;
    // Results are returned in double storage whatever the compute precision.
    virtual Image<double> psf(const PsfRequest& req, const StageOptions& opt) = 0;
    virtual Image<double> deconvolve(const Image<double>& img, const Image<double>& psf, const DeconvolveRequest& req, const StageOptions& opt) = 0;
    virtual AiaImage register_image(const AiaImage& img, const RegisterRequest& req, const StageOptions& opt) = 0;
    // A device backend's event times of its last call of `stage` ("psf", "deconvolve", "register");
    // nothing for host backends. reset_device_timing marks them "not timed" before a measured call.
    virtual std::optional<DeviceTiming> device_timing(std::string_view /*stage*/) const { return std::nullopt; }
    virtual void reset_device_timing(std::string_view /*stage*/) {}
    // What `stage` runs on in this process, recorded in every result row: the Highway target its SIMD
    // kernels were dispatched to ("AVX3", "AVX2", ...), a device backend's device, or "none" (no
    // run-time dispatch: compiled loops and FFTW's own codelets).
    virtual std::string target(Stage /*stage*/) const { return "none"; }
};

// What one backend does for one stage, declared up front (BackendEntry::caps) so callers choose
// before running: validate skips with the reason, prep picks its fallback once, the CLI refuses early.
struct StageCaps {
    bool provided = true;  // the backend implements the stage at all
    bool f64 = true, f32 = true;  // precisions it accepts
    bool f32_computes_in_f64 = false;  // an f32 request is computed in float64 (and is not an error)
    unsigned spline_orders = ~0u;  // register: bit k set = spline order k accepted
    bool progress = false;  // deconvolve: calls DeconvolveRequest::on_iteration
    bool estimates = false;  // deconvolve: calls DeconvolveRequest::on_estimate
    bool preflight_core = true;  // psf: the pre-flight core PSF (use_preflight_core)
    // Its kernels are dispatched by Google Highway at run time over the compiled instruction sets
    // (hwy::SetSupportedTargetsForTest selects one): the conformance suite tests each target.
    bool highway = false;

    bool accepts(Precision p) const { return provided && (p == Precision::f64 ? f64 : f32); }
    bool accepts_order(int order) const { return order >= 0 && order < 32 && (spline_orders >> order & 1u); }
};

struct Capabilities {
    StageCaps psf, deconvolve, register_image;
    bool thread_safe = false;  // concurrent calls from several threads are safe (else: serialise them)
    bool host_threads = false;  // StageOptions::threads sets how many host threads it computes on
    std::string_view device = "host";  // where it computes: "host" or "gpu"

    const StageCaps& of(Stage s) const { return s == Stage::psf ? psf : s == Stage::deconvolve ? deconvolve : register_image; }
    // Accepted by at least one stage (what a command-line --precision may name).
    bool accepts(Precision p) const { return psf.accepts(p) || deconvolve.accepts(p) || register_image.accepts(p); }
    // Why `backend` cannot run `stage` at precision `p` (and spline `order`, register only), or "" when it can.
    std::string refusal(std::string_view backend, Stage stage, Precision p, int order = 3) const;
};

struct BackendEntry {
    std::string_view name;
    std::string_view description;
    Availability (*probe)();
    std::unique_ptr<Backend> (*make)();
    Capabilities caps = {};  // default: every stage, precision and order; not thread-safe; host
    // The FFT library its transforms use now at a precision, as result rows record it (cpu "fftw 3.3.10"
    // or "mkl 2025.3", reference "fftw 3.3.10 (ESTIMATE plans)", cuda "cufft"); null: none recorded.
    std::string (*fft)(Precision) = nullptr;
};

}  // namespace aiaccel
