// Reference backend adapter: forwards the three stages to the faithful ports.
#include "reference/reference_backend.hpp"

#include "core/error.hpp"
#include "reference/deconvolve_reference.hpp"
#include "reference/psf_reference.hpp"
#include "reference/register_reference.hpp"

namespace aiaccel::reference {
namespace {

class ReferenceBackend final : public Backend {
public:
    std::string_view name() const override { return "reference"; }
    bool supports(Precision p) const override { return p == Precision::f64; }
    Image<double> psf(const PsfRequest& req, const StageOptions& opt) override {
        check(opt);
        PsfOptions po;
        po.use_preflight_core = req.use_preflight_core;
        po.version = req.version;
        return reference::psf(req.channel, po);
    }
    Image<double> deconvolve(const Image<double>& img, const Image<double>& p, const DeconvolveRequest& req, const StageOptions& opt) override {
        check(opt);
        return reference::deconvolve(
            img, p,
            {.iterations = req.iterations, .clip_negative = req.clip_negative, .on_iteration = req.on_iteration, .on_estimate = req.on_estimate});
    }
    AiaImage register_image(const AiaImage& img, const RegisterRequest& req, const StageOptions& opt) override {
        check(opt);
        RegisterOptions ro;
        ro.missing = req.missing;
        ro.order = req.order;
        ro.full_frame = req.full_frame;
        return reference::register_image(img, ro);
    }

private:
    void check(const StageOptions& opt) const {
        if (!supports(opt.precision)) throw Error(ErrorKind::usage, "the reference backend computes in float64 only (--precision f64)");
    }
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<ReferenceBackend>(); }
Availability probe() { return {true, "reference: available (float64, single thread)"}; }

}  // namespace aiaccel::reference
