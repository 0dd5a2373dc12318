// CUDA backend adapter: forwards psf and deconvolve to psf_cuda / deconvolve_cuda<T>. StageOptions'
// thread count is meaningless on the device and ignored. register throws Error(not_implemented):
// the affine kernels (register_cuda.hpp) take an explicit map, and the sunpy/aiapy geometry that
// makes it (rotation matrix, padding, shift, crop, header) is not shared with the fast backends yet.
#include "fast/cuda/cuda_backend.hpp"

#include "core/error.hpp"
#include "fast/cuda/deconvolve_cuda.hpp"
#include "fast/cuda/psf_cuda.hpp"

namespace aiaccel::cuda {
namespace {

class CudaBackend final : public Backend {
public:
    std::string_view name() const override { return "cuda"; }
    bool supports(Precision) const override { return true; }
    // Always float64 (ALGORITHMS.md §1.3: a float32 FFT PSF fails the sum check).
    Image<double> psf(const PsfRequest& req, const StageOptions&) override {
        return psf_cuda(req.channel, req.use_preflight_core, req.version);
    }
    Image<double> deconvolve(const Image<double>& img, const Image<double>& p, const DeconvolveRequest& req, const StageOptions& opt) override {
        return opt.precision == Precision::f64 ? deconvolve_cuda<double>(img, p, req.iterations, req.clip_negative)
                                               : deconvolve_cuda<float>(img, p, req.iterations, req.clip_negative);
    }
    AiaImage register_image(const AiaImage&, const RegisterRequest&, const StageOptions&) override {
        throw Error(ErrorKind::not_implemented, "cuda: register geometry not wired yet");
    }
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace aiaccel::cuda
