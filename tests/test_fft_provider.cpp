// The cpu backend's FFT provider seam (fast/cpu/fft_provider.hpp): the choice (--fft, AIACCEL_FFT) is
// checked and recorded; every provider built here computes the same transforms as FFTW on a 512² crop
// of a real file, and Richardson–Lucy (fused and unfused) with each one stays within the tolerance
// table's bounds against the reference. Without -Dmkl only FFTW runs, and mkl is refused with how to build it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "fast/cpu/deconvolve_cpu.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "fast/cpu/fftw_cpu.hpp"
#include "reference/deconvolve_reference.hpp"
#include "tests/fast_backend_cases.hpp"
#include "registry/backend_registry.hpp"
#include "validate/compare.hpp"
#include "validate/tolerances.hpp"

using namespace aiaccel;

namespace {

// Sets AIACCEL_FFT (and AIACCEL_DECONVOLVE_CPU) for one scope, restoring what was there.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* v = std::getenv(name)) old_ = v, had_ = true;
        setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() { had_ ? (void)setenv(name_, old_.c_str(), 1) : (void)unsetenv(name_); }

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

std::vector<std::string> built_providers() {
    std::vector<std::string> v{"fftw"};
    if (cpu::fft_provider_built(cpu::FftProvider::mkl)) v.emplace_back("mkl");
    return v;
}

// max |a − b| / max |b| over two spectra.
template <class T>
double spectrum_difference(const std::complex<T>* a, const std::complex<T>* b, std::size_t n) {
    double d = 0, m = 0;
    for (std::size_t k = 0; k < n; ++k) {
        d = std::max(d, double(std::abs(std::complex<double>(a[k]) - std::complex<double>(b[k]))));
        m = std::max(m, double(std::abs(std::complex<double>(b[k]))));
    }
    return d / m;
}

// r2c of the crop with the current provider vs FFTW, and the c2r round trip; bound: a few ulps × log2 n.
template <class T>
void check_transforms(const Image<double>& img, const std::string& provider) {
    const std::size_t rows = img.rows(), cols = img.cols(), n = rows * cols, ns = rows * (cols / 2 + 1);
    auto in = cpu::fftw_buffer<T, T>(n), back = cpu::fftw_buffer<T, T>(n);
    auto s = cpu::fftw_buffer<T, std::complex<T>>(ns), s_fftw = cpu::fftw_buffer<T, std::complex<T>>(ns);
    for (std::size_t k = 0; k < n; ++k) in[k] = static_cast<T>(std::max(img.data()[k], 0.0));
    cpu::FftwRealPlans<T> fftw(rows, cols, 1, FFTW_ESTIMATE);
    fftw.forward(in.get(), s_fftw.get());
    const auto& plans = cpu::cached_plans<T>(rows, cols, 2);
    plans.forward(in.get(), s.get());
    const double eps = sizeof(T) == 8 ? 1e-13 : 1e-5;
    const double d = spectrum_difference(s.get(), s_fftw.get(), ns);
    plans.inverse(s.get(), back.get());
    double r = 0, m = 0;
    for (std::size_t k = 0; k < n; ++k) {
        r = std::max(r, std::abs(double(back[k]) / double(n) - double(in[k])));
        m = std::max(m, std::abs(double(in[k])));
    }
    std::printf("[fft] %s %s r2c vs fftw %.3g, round trip %.3g (relative to max)\n", provider.c_str(), sizeof(T) == 8 ? "f64" : "f32", d, r / m);
    EXPECT_LE(d, eps) << provider;
    EXPECT_LE(r / m, eps) << provider;
}

}  // namespace

TEST(FftProvider, ChoiceIsCheckedAndRecorded) {
    ScopedEnv env("AIACCEL_FFT", "auto");
    try {
        cpu::set_fft_choice("fftx");
        ADD_FAILURE() << "fftx accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("fftw, mkl or auto"), std::string::npos) << e.what();
    }
    cpu::set_fft_choice("fftw");
    EXPECT_EQ(cpu::fft_provider(Precision::f32), cpu::FftProvider::fftw);
    EXPECT_EQ(registry::backend_fft("cpu", Precision::f64).rfind("fftw 3.", 0), 0u) << registry::backend_fft("cpu", Precision::f64);
    if (cpu::fft_provider_built(cpu::FftProvider::mkl)) {
        cpu::set_fft_choice("mkl");
        EXPECT_EQ(registry::backend_fft("cpu", Precision::f32).rfind("mkl 20", 0), 0u) << registry::backend_fft("cpu", Precision::f32);
    } else {
        EXPECT_THROW(cpu::set_fft_choice("mkl"), Error);
        EXPECT_EQ(cpu::fft_choice(), "fftw");  // a refused choice changes nothing
    }
    cpu::set_fft_choice("auto");
    EXPECT_TRUE(cpu::fft_provider_built(cpu::fft_provider(Precision::f64)));
}

TEST(FftProvider, EachProviderMatchesFftwOnARealCrop) {
    const auto& c = test::small_case();
    for (const auto& p : built_providers()) {
        ScopedEnv env("AIACCEL_FFT", p);
        check_transforms<double>(c.img, p);
        check_transforms<float>(c.img, p);
    }
}

TEST(FftProvider, DeconvolveWithEachProviderStaysWithinTheBounds) {
    const auto& c = test::small_case();
    const Image<double> ref = reference::deconvolve(c.img, c.psf, {.iterations = 25});
    auto bound = [](const char* metric, const char* precision) {
        return validate::tolerance("deconvolve", metric, validate::Against::reference, "cpu", precision).bound;
    };
    for (const auto& p : built_providers())
        for (const char* loop : {"fused", "unfused"}) {
            ScopedEnv env("AIACCEL_FFT", p), path("AIACCEL_DECONVOLVE_CPU", loop);
            const auto m64 = validate::compare(cpu::deconvolve_cpu<double>(c.img, c.psf, {.iterations = 25}, 2), ref);
            const auto m32 = validate::compare(cpu::deconvolve_cpu<float>(c.img, c.psf, {.iterations = 25}, 2), ref);
            std::printf("[fft] %s %s deconvolve f64: %s; f32: %s\n", p.c_str(), loop, m64.summary().c_str(), m32.summary().c_str());
            EXPECT_LE(m64.max_abs_over_max, bound("max_abs_over_max", "f64")) << p << " " << loop;
            EXPECT_LE(m32.max_abs_over_max, bound("max_abs_over_max", "f32")) << p << " " << loop;
            EXPECT_LE(m32.rel_l2, bound("rel_l2", "f32")) << p << " " << loop;
        }
}
