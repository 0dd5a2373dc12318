// CUDA backend adapter: forwards psf and deconvolve to psf_cuda / deconvolve_cuda<T>, and register to
// register_image_with (the fast backends' shared plan, fast/common/register_plan) running its one job with
// affine_transform_cuda. StageOptions' thread count is meaningless on the device and ignored.
#include "fast/cuda/cuda_backend.hpp"

#include "fast/cuda/cuda_host.hpp"
#include "fast/cuda/cuda_probe.hpp"
#include "fast/cuda/deconvolve_cuda.hpp"
#include "fast/cuda/psf_cuda.hpp"
#include "fast/cuda/register_cuda.hpp"
#include "fast/cuda/register_cuda_host.hpp"

namespace aiaccel::cuda {
namespace {

class CudaBackend final : public Backend {
public:
    std::string_view name() const override { return "cuda"; }
    bool supports(Precision) const override { return true; }
    // Always float64 (docs/algorithms.md §1.3: a float32 FFT PSF fails the sum check).
    Image<double> psf(const PsfRequest& req, const StageOptions&) override { return psf_cuda(req.channel, req.use_preflight_core, req.version); }
    Image<double> deconvolve(const Image<double>& img, const Image<double>& p, const DeconvolveRequest& req, const StageOptions& opt) override {
        return opt.precision == Precision::f64 ? deconvolve_cuda<double>(img, p, req) : deconvolve_cuda<float>(img, p, req);
    }
    // Always float64 compute (the kernels' precision); the output keeps the input's dtype.
    AiaImage register_image(const AiaImage& in, const RegisterRequest& req, const StageOptions&) override {
        return register_image_with(in, req, affine_transform_cuda);
    }
    std::optional<DeviceTiming> device_timing(std::string_view stage) const override {
        const StageTiming t = last_timing(std::string(stage));
        return DeviceTiming{t.upload_ms, t.compute_ms, t.download_ms, t.valid, t.error};
    }
    void reset_device_timing(std::string_view stage) override {
        StageTiming none;
        none.error = "the run made no timed device call";
        record_timing(std::string(stage), none);
    }
    std::string target(Stage) const override { return device_name(); }
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace aiaccel::cuda
