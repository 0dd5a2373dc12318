// The conformance suite's own cases (see conformance_cases.hpp).
#include "tests/conformance_cases.hpp"

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "tests/fast_backend_cases.hpp"
#include "tests/golden_support.hpp"
#include "tests/register_cases.hpp"
#include "tests/test_support.hpp"
#include "registry/backend_registry.hpp"
#include "validate/reference_runs.hpp"
#include "validate/verdict.hpp"

namespace aiaccel::test {
namespace {
using validate::Against;

Backend& reference_backend() {
    static const std::unique_ptr<Backend> be = registry::make_available_backend("reference");
    return *be;
}

StageOptions options(const Combo& c) { return {c.precision, 2}; }

// Judges one output as `aiaccel validate` judges a row, and prints the measurement.
void expect_conforms(const Combo& c, validate::Measurement m, Against against, const std::string& what) {
    const std::string stage(to_string(c.stage)), precision(to_string(c.precision));
    const validate::Judgement j = validate::judge(m, stage, against, c.backend->name, precision);
    const validate::Check* shown = j.shown();
    std::printf("[conformance] %s %s %s: %s vs %s: %s %s\n", stage.c_str(), std::string(c.backend->name).c_str(), precision.c_str(), what.c_str(),
                std::string(to_string(against)).c_str(), std::string(to_string(j.verdict)).c_str(), shown ? shown->text().c_str() : j.note.c_str());
    EXPECT_EQ(j.verdict, validate::Verdict::passed) << what << ": " << m.metrics.summary() << " " << j.note;
    for (const std::string& f : j.failed_texts()) ADD_FAILURE() << what << ": out of bounds: " << f;
}

double nanmin(const Image<double>& a) {
    double m = NAN;
    for (double v : a.pixels())
        if (!std::isnan(v) && !(v >= m)) m = v;
    return m;
}

// ---- deconvolve ---------------------------------------------------------------------------------

// small_case()'s crops, from the 171 Å PSF validate's runs computed for psf-171 (read from the cache).
const SmallCase& crop_case() {
    static const SmallCase s = [] {
        validate::ReferenceRuns runs(golden_store(), validate::ReferenceCache(reference_cache_dir()));
        return make_small_case(runs.psf(171, false, kDefaultAiapyVersion).image->data);
    }();
    return s;
}

void real_crop_25_iterations(const Combo& c, Backend& be) {
    const SmallCase& s = crop_case();
    static const Image<double> ref = reference_backend().deconvolve(s.img, s.psf, {.iterations = 25}, {});
    const Image<double> out = be.deconvolve(s.img, s.psf, {.iterations = 25}, options(c));
    expect_conforms(c, validate::measure_pair("deconvolve", out, ref), Against::reference, "real 512² crop, 25 iterations");
    // Zeros (clipped missing pixels and true zeros) stay exactly zero: the update is multiplicative.
    std::size_t moved = 0;
    for (std::size_t p = 0; p < ref.size(); ++p) moved += ref.data()[p] == 0.0 && out.data()[p] != 0.0;
    EXPECT_EQ(moved, 0u) << "pixels that are zero in the reference but not here";
}

void input_contract(const Combo& c, Backend& be) {
    Image<double> img(64, 64, -1.0), delta(64, 64, 0.0);
    img(3, 3) = 5.0;
    delta(32, 32) = 1.0;
    const Image<double> zero = be.deconvolve(img, delta, {.iterations = 0}, options(c));
    Image<double> clipped = img;
    for (double& v : clipped.pixels()) v = std::max(v, 0.0);
    EXPECT_TRUE(bitwise_equal(zero, clipped)) << "0 iterations must return the clipped input";
    EXPECT_THROW(be.deconvolve(img, Image<double>(32, 32, 0.0), {.iterations = 1}, options(c)), Error) << "a PSF of another shape";
    EXPECT_THROW(be.deconvolve(Image<double>(63, 63, 1.0), Image<double>(63, 63, 1.0), {.iterations = 1}, options(c)), Error) << "odd size";
}

// ---- register -----------------------------------------------------------------------------------

void expect_same_register_header(const AiaImage& got, const AiaImage& ref, const std::string& what) {
    for (const char* k : {"CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CDELT1", "CDELT2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "R_SUN", "LVL_NUM"})
        EXPECT_EQ(got.header.get_double(k), ref.header.get_double(k)) << what << ": " << k;
    for (const char* k : {"CROTA2", "CD1_1"}) EXPECT_FALSE(got.header.has(k)) << what << ": " << k;
}

void register_vs_reference(const Combo& c, Backend& be, const AiaImage& in, const RegisterRequest& req, const std::string& what) {
    const AiaImage ref = reference_backend().register_image(in, req, {});
    const AiaImage got = be.register_image(in, req, options(c));
    validate::Measurement m = validate::measure_pair("register", got.data, ref.data, req.missing.value_or(nanmin(in.data)));
    m.set("dtype_mismatch", got.dtype == ref.dtype ? 0 : 1);
    expect_conforms(c, std::move(m), Against::reference, what);
    expect_same_register_header(got, ref, what);
}

// The error `run` throws, if any.
template <class F>
std::optional<Error> refusal(F&& run) {
    try {
        run();
    } catch (const Error& e) { return e; }
    return std::nullopt;
}

void register_refusals(const Combo& c, Backend& be) {
    const AiaImage cut = load_aia(real_file("aia_171_cutout.fits").string());
    const auto want = refusal([&] { (void)reference_backend().register_image(cut, {}, {}); });
    const auto got = refusal([&] { (void)be.register_image(cut, {}, options(c)); });
    ASSERT_TRUE(want && got) << "a cut-out (no full disk) is refused by the reference and by the backend";
    EXPECT_EQ(got->kind(), want->kind());
    EXPECT_EQ(std::string(got->what()), std::string(want->what())) << "the same edge-pixel count and margin in the message";
    const AiaImage i16 = synthetic_register_map(40, 60.0, 10.0, PixelType::i16);
    const RegisterRequest half{.missing = 0.5};
    const auto want16 = refusal([&] { (void)reference_backend().register_image(i16, half, {}); });
    const auto got16 = refusal([&] { (void)be.register_image(i16, half, options(c)); });
    ASSERT_TRUE(want16 && got16) << "integer data with a non-integer missing value is refused, as sunpy refuses it";
    EXPECT_EQ(got16->kind(), want16->kind());
}

void register_cases(const Combo& c, Backend& be) {
    for (const RegisterCase& rc : synthetic_register_cases())
        if (c.backend->caps.register_image.accepts_order(rc.order)) register_vs_reference(c, be, rc.input(), rc.request(), rc.name());
    for (const char* name : {"aia_171_level1.fits", kDerived1600Source}) register_vs_reference(c, be, load_aia(real_file(name).string()), {}, name);
    register_refusals(c, be);
}

}  // namespace

const std::filesystem::path& reference_cache_dir() {
    static const ScratchDir dir;
    return dir.path();
}

void PrintTo(const Combo& c, std::ostream* os) {
    *os << c.backend->name << " " << to_string(c.stage) << " " << to_string(c.precision) << ", Highway target "
        << (c.target ? hwy::TargetName(c.target) : "none (no Highway kernels)");
}

void extra_cases(const Combo& c, Backend& be) {
    switch (c.stage) {
        case Stage::psf: return;  // validate's psf-171 is the case (a PSF is 4096² by definition)
        case Stage::deconvolve:
            real_crop_25_iterations(c, be);
            input_contract(c, be);
            return;
        case Stage::register_image: register_cases(c, be); return;
    }
}

}  // namespace aiaccel::test
