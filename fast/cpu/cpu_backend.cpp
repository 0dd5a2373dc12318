// Fast CPU backend adapter: forwards psf and deconvolve to psf_cpu / deconvolve_cpu<T>,
// and register to register_image_cpu (Highway SIMD, order 3). --threads 0 means
// std::thread::hardware_concurrency().
#include "fast/cpu/cpu_backend.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "fast/cpu/deconvolve_cpu.hpp"
#include "fast/common/parallel.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "fast/cpu/psf_cpu.hpp"
#include "fast/cpu/register_cpu.hpp"
#include "fast/cpu/spline_prefilter_cpu.hpp"

namespace aiaccel::cpu {
namespace {

class CpuBackend final : public Backend {
public:
    std::string_view name() const override { return "cpu"; }
    bool supports(Precision) const override { return true; }
    // The PSF is always computed in float64 (docs/algorithms.md §1.3: a float32 FFT PSF fails the sum
    // check); f32 callers get it in double storage and cast where they use it.
    Image<double> psf(const PsfRequest& req, const StageOptions& opt) override {
        return psf_cpu(req.channel, req.use_preflight_core, req.version, opt.threads);
    }
    Image<double> deconvolve(const Image<double>& img, const Image<double>& p, const DeconvolveRequest& req, const StageOptions& opt) override {
        return opt.precision == Precision::f64 ? deconvolve_cpu<double>(img, p, req, opt.threads) : deconvolve_cpu<float>(img, p, req, opt.threads);
    }
    AiaImage register_image(const AiaImage& img, const RegisterRequest& req, const StageOptions& opt) override {
        return register_image_cpu(img, req, opt.precision, opt.threads);
    }
    // register's spline kernels are Highway's; psf and deconvolve are FFTW and compiled loops.
    std::string target(Stage s) const override { return s == Stage::register_image ? spline_prefilter_cpu_target() : "none"; }
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<CpuBackend>(); }
Availability probe() {
    return {true,
            fmt::format("cpu: available (FFT {}{}, float64/float32, {} hardware threads; register order 3 with {} SIMD)", fft_choice(),
                        fft_provider_built(FftProvider::mkl) ? ": fftw or mkl" : ": fftw, no mkl in this build", resolve_threads(0),
                        spline_prefilter_cpu_target())};
}

}  // namespace aiaccel::cpu
