// Richardson–Lucy's per-iteration error against the reference (validate/iteration_errors.hpp,
// docs/validation.md §2.2) on the real 128² 171 Å file with a Gaussian PSF (σ 1.5 px, made here):
// the reference beside itself measures 0 after every iteration, the cpu backend stays inside its
// bounds at every iteration in both precisions, and a planted error that the final image cannot show
// — a flux error in one intermediate estimate, which RL's scale-blind update repairs in the next
// iteration — fails the row on `iteration_max_rel` alone. A backend that reports too few estimates,
// or throws half-way, is an error, never a hang.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/error.hpp"
#include "reference/deconvolve_reference.hpp"
#include "reference/reference_backend.hpp"
#include "registry/backend_registry.hpp"
#include "tests/golden_support.hpp"
#include "validate/iteration_errors.hpp"
#include "validate/verdict.hpp"

using namespace aiaccel;
using namespace aiaccel::validate;

namespace {

constexpr int kIterations = 6;

const Image<double>& real_128() {
    static const Image<double> img = test::golden_store().input("aia_171_level1").data;
    return img;
}

// A normalised Gaussian of σ = 1.5 px centred at [n/2, n/2], the shape aiapy's PSF has.
const Image<double>& gaussian_psf() {
    static const Image<double> psf = [] {
        const std::size_t n = real_128().rows();
        Image<double> p(n, n);
        double sum = 0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) sum += p(i, j) = std::exp(-(std::pow(double(i) - n / 2, 2) + std::pow(double(j) - n / 2, 2)) / 4.5);
        for (double& v : p.pixels()) v /= sum;
        return p;
    }();
    return psf;
}

// A backend that deconvolves exactly as the reference but reports a changed estimate after one
// iteration (`plant` changes a copy), as a backend with a transient error would.
class TransientBackend final : public Backend {
public:
    TransientBackend(int at, void (*plant)(std::vector<double>&), int report_until = 1 << 30) : at_(at), plant_(plant), until_(report_until) {}
    std::string_view name() const override { return "planted"; }
    bool supports(Precision p) const override { return p == Precision::f64; }
    Image<double> psf(const PsfRequest&, const StageOptions&) override { throw std::logic_error("not used"); }
    AiaImage register_image(const AiaImage&, const RegisterRequest&, const StageOptions&) override { throw std::logic_error("not used"); }
    Image<double> deconvolve(const Image<double>& img, const Image<double>& psf, const DeconvolveRequest& req, const StageOptions&) override {
        return reference::deconvolve(img, psf, {.iterations = req.iterations, .on_estimate = [&](const EstimateView& v) {
                                                    if (v.iteration > until_) return;
                                                    if (v.iteration != at_) return req.on_estimate(v);
                                                    std::vector<double> copy(v.f64, v.f64 + v.rows * v.cols);
                                                    plant_(copy);
                                                    req.on_estimate({.iteration = v.iteration, .rows = v.rows, .cols = v.cols, .f64 = copy.data()});
                                                }});
    }

private:
    int at_;
    void (*plant_)(std::vector<double>&);
    int until_;
};

Judgement judge_final_and_iterations(const std::vector<double>& errors) {
    const Image<double> ref = reference::deconvolve(real_128(), gaussian_psf(), {.iterations = kIterations});
    Measurement m = measure_pair("deconvolve", ref, ref);
    double worst = 0;
    for (double e : errors) worst = std::isnan(e) || std::isnan(worst) ? NAN : std::max(worst, e);
    m.set("iteration_max_rel", worst);
    return judge(m, "deconvolve", Against::reference, "planted", "f64");
}

}  // namespace

TEST(IterationErrors, TheReferenceBesideItselfIsExactAfterEveryIteration) {
    auto ref = reference::make_backend();
    const auto e = iteration_errors(*ref, real_128(), gaussian_psf(), kIterations, {});
    ASSERT_EQ(e.size(), std::size_t(kIterations));
    for (double v : e) EXPECT_EQ(v, 0.0);
}

TEST(IterationErrors, CpuStaysInsideItsBoundsAfterEveryIteration) {
    auto cpu = registry::find_backend("cpu").make();
    const Image<double> ref = reference::deconvolve(real_128(), gaussian_psf(), {.iterations = kIterations});
    for (Precision p : {Precision::f64, Precision::f32}) {
        SCOPED_TRACE(std::string(to_string(p)));
        const StageOptions so{.precision = p, .threads = 2};
        const auto e = iteration_errors(*cpu, real_128(), gaussian_psf(), kIterations, so);
        ASSERT_EQ(e.size(), std::size_t(kIterations));
        const double bound = tolerance("deconvolve", "iteration_max_rel", Against::reference, "*", to_string(p)).bound;
        for (double v : e) EXPECT_LE(v, bound);
        // The last estimate it reported is the image it returned.
        const Image<double> out = cpu->deconvolve(real_128(), gaussian_psf(), {.iterations = kIterations}, so);
        EXPECT_EQ(e.back(), compare(out, ref).max_abs_over_max);
    }
}

TEST(IterationErrors, AFluxErrorRepairedByTheNextIterationFailsOnIterationMaxRelOnly) {
    TransientBackend planted(2, [](std::vector<double>& u) {
        for (double& v : u) v *= 1 + 1e-9;  // the disk's flux ×(1 + 1e-9) after iteration 2 of 6
    });
    const auto e = iteration_errors(planted, real_128(), gaussian_psf(), kIterations, {});
    ASSERT_EQ(e.size(), std::size_t(kIterations));
    EXPECT_NEAR(e[1], 1e-9, 1e-12);
    for (std::size_t k : {0u, 2u, 3u, 4u, 5u}) EXPECT_EQ(e[k], 0.0) << "iteration " << k + 1;
    const Judgement bad = judge_final_and_iterations(e);
    EXPECT_EQ(bad.verdict, Verdict::failed);
    EXPECT_EQ(bad.failing_metric(), "iteration_max_rel");
    EXPECT_EQ(judge_final_and_iterations(std::vector<double>(kIterations, 0.0)).verdict, Verdict::passed);
}

TEST(IterationErrors, ANanInOneEstimateFails) {
    TransientBackend planted(3, [](std::vector<double>& u) { u[u.size() / 2 + 64] = NAN; });
    const auto e = iteration_errors(planted, real_128(), gaussian_psf(), kIterations, {});
    EXPECT_TRUE(std::isnan(e[2]));
    EXPECT_EQ(judge_final_and_iterations(e).failing_metric(), "iteration_max_rel");
}

TEST(IterationErrors, TooFewEstimatesOrAThrowIsAnErrorNotAHang) {
    TransientBackend quiet(0, nullptr, 3);  // reports iterations 1..3 of 6
    try {
        iteration_errors(quiet, real_128(), gaussian_psf(), kIterations, {});
        FAIL() << "no error";
    } catch (const Error& err) { EXPECT_EQ(std::string(err.what()), "planted: reported 3 estimates for 6 iterations"); }
    TransientBackend throws(4, [](std::vector<double>&) { throw std::runtime_error("device lost"); });
    EXPECT_THROW(
        {
            try {
                iteration_errors(throws, real_128(), gaussian_psf(), kIterations, {});
            } catch (const std::runtime_error& err) {
                EXPECT_STREQ(err.what(), "device lost");
                throw;
            }
        },
        std::runtime_error);
}
