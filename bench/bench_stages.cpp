// The measurable runs of bench_stages.hpp: stage runs through the Backend seam and the two floors.
#include "bench/bench_stages.hpp"

#include <chrono>
#include <complex>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <optional>

#include "bench/bench_inputs.hpp"
#include "core/error.hpp"
#include "fast/cpu/deconvolve_cpu.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "fast/cpu/fftw_cpu.hpp"
#include "fast/common/parallel.hpp"
#include "registry/backend_registry.hpp"
#include "validate/stage_driver.hpp"

namespace aiaccel::bench {
namespace {

const AiaImage& input_image(const std::string& case_name) {
    const auto& in = inputs();
    if (case_name == kDerivedCase) return in.derived4096;
    if (case_name == kRealCase) return in.real2048;
    throw Error(ErrorKind::usage, fmt::format("bench: unknown case {} (expected {} or {})", case_name, kDerivedCase, kRealCase));
}

// The FFT provider alone: per RL iteration two r2c and two c2r of the image size with the cpu backend's
// cached plans (the same provider, sizes, precision, threads and planner flags), 4 × 25 = 100
// transforms. Each r2c reads the fixed input, so values stay finite (a c2r is unnormalised) and no
// work depends on the data. plan_s: making a new pair of these plans (FFTW: with the wisdom file
// when one is in use, so a measured plan is only slow the first time on a machine).
template <class T>
PreparedRun fft_floor_run(const Image<double>& img, int threads) {
    const cpu::FftProvider provider = cpu::fft_provider(cpu::precision_of<T>);
    const auto t0 = std::chrono::steady_clock::now();
    (void)cpu::make_real_fft<T>(provider, img.rows(), img.cols(), threads, cpu::fftw_planner_flags());
    const double plan_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& plans = cpu::cached_plans<T>(img.rows(), img.cols(), threads);  // planned here, not in the timed run
    const std::size_t n = img.size(), ns = img.rows() * plans.half_cols();
    auto u = std::make_shared<cpu::FftwBuffer<T>>(cpu::fftw_buffer<T>(n));
    auto e = std::make_shared<cpu::FftwBuffer<T>>(cpu::fftw_buffer<T>(n));
    auto s = std::make_shared<cpu::FftwBuffer<T, std::complex<T>>>(cpu::fftw_buffer<T, std::complex<T>>(ns));
    for (std::size_t k = 0; k < n; ++k) (*u)[k] = static_cast<T>(img.data()[k] < 0 ? 0.0 : img.data()[k]);
    PreparedRun r;
    r.run = [&plans, u, e, s] {
        for (int it = 0; it < kIterations; ++it)
            for (int half = 0; half < 2; ++half) {
                plans.forward(u->get(), s->get());
                plans.inverse(s->get(), e->get());
            }
    };
    r.pixels = double(n);
    r.plan_s = plan_s;
    const std::string how = provider == cpu::FftProvider::mkl
        ? std::string("DFTI descriptors")
        : fmt::format("{} planner{}", cpu::fftw_planner_flags() == unsigned(FFTW_ESTIMATE) ? "ESTIMATE" : "MEASURE",
                      cpu::fftw_wisdom_enabled() ? ", wisdom file in use" : ", no wisdom");
    r.notes.push_back(fmt::format("{} only: {} r2c/c2r transforms of {}x{} (the cpu backend's cached plans, {}); a new plan pair took {:.3g} s",
                                  cpu::fft_label(cpu::precision_of<T>), 4 * kIterations, img.rows(), img.cols(), how, plan_s));
    return r;
}

template <class T>
PreparedRun memcpy_floor(const Image<double>& img, int threads) {
    const std::size_t n = img.size();
    auto a = std::make_shared<std::vector<T>>(n), b = std::make_shared<std::vector<T>>(n);
    for (std::size_t k = 0; k < n; ++k) (*a)[k] = static_cast<T>(img.data()[k]);
    PreparedRun r;
    r.run = [a, b, n, threads] {
        cpu::parallel_for(n, threads,
                          [&](std::size_t lo, std::size_t hi, std::size_t) { std::memcpy(b->data() + lo, a->data() + lo, (hi - lo) * sizeof(T)); });
    };
    r.pixels = double(n);
    r.notes.push_back(
        fmt::format("one memcpy of the {}x{} image ({:.0f} MiB read + written)", img.rows(), img.cols(), double(n * sizeof(T)) / (1 << 20)));
    return r;
}

}  // namespace

std::string label(const StageSpec& s) {
    return fmt::format("{}/{}/{}/{}/threads:{}{}{}", s.stage, s.backend, to_string(s.precision), s.case_name, s.threads,
                       s.fft.empty() ? "" : "/fft:" + s.fft, s.cpu_loop.empty() ? "" : "/loop:" + s.cpu_loop);
}

std::string fft_floor(const std::string& fft, Precision precision) {
    const std::string saved = cpu::fft_choice();
    cpu::set_fft_choice(fft);
    const std::string floor = fmt::format("{}-floor", cpu::to_string(cpu::fft_provider(precision)));
    cpu::set_fft_choice(saved);
    return floor;
}

std::string floor_backend(const std::string& stage) { return validate::stage_driver(stage).bench().floor; }

std::vector<std::string> stage_cases(const std::string& stage) { return validate::stage_driver(stage).bench().cases; }

bool stage_has_precision(const std::string& stage, Precision precision) {
    return precision == Precision::f64 || validate::stage_driver(stage).bench().f32;
}

PreparedRun prepare(const StageSpec& s) {
    const bool f64 = s.precision == Precision::f64;
    if (s.backend == kFftwFloor || s.backend == kMklFloor) {
        cpu::set_fft_choice(s.backend == kMklFloor ? "mkl" : "fftw");
        return f64 ? fft_floor_run<double>(input_image(s.case_name).data, s.threads) : fft_floor_run<float>(input_image(s.case_name).data, s.threads);
    }
    if (!s.fft.empty()) cpu::set_fft_choice(s.fft);
    if (!s.cpu_loop.empty()) cpu::set_deconvolve_cpu_path(s.cpu_loop);
    if (s.backend == kMemcpyFloor)
        return f64 ? memcpy_floor<double>(input_image(s.case_name).data, s.threads) : memcpy_floor<float>(input_image(s.case_name).data, s.threads);

    const std::optional<Stage> stage = validate::stage_driver(s.stage).backend_stage();
    if (!stage) throw Error(ErrorKind::usage, fmt::format("bench: stage {} runs on no backend", s.stage));
    std::shared_ptr<Backend> backend = registry::make_available_backend(s.backend);
    if (std::string why = registry::find_backend(s.backend).caps.refusal(s.backend, *stage, s.precision); !why.empty())
        throw Error(ErrorKind::usage, why);
    StageOptions opt{s.precision, s.threads};
    PreparedRun r;
    r.backend = backend;
    switch (*stage) {
        case Stage::psf:
            r.run = [backend, opt] { (void)backend->psf(PsfRequest{kPsfChannel, false, kDefaultAiapyVersion}, opt); };
            r.pixels = 4096.0 * 4096.0;
            r.notes.push_back(
                fmt::format("PSF of channel {} (4096x4096, aiapy {} semantics), computed in float64 (no f32 row: f32 callers get "
                            "this float64 PSF)",
                            kPsfChannel, to_string(kDefaultAiapyVersion)));
            break;
        case Stage::deconvolve: {
            const auto& img = input_image(s.case_name);
            const auto& psf = inputs().psf171;
            r.run = [backend, opt, &img, &psf] { (void)backend->deconvolve(img.data, psf, DeconvolveRequest{kIterations, true}, opt); };
            r.pixels = double(img.data.size());
            r.notes.push_back(fmt::format("{} Richardson-Lucy iterations, PSF passed in (171 A)", kIterations));
            if (s.backend == "cpu")
                r.notes.push_back(fmt::format("cpu loop: {} (AIACCEL_DECONVOLVE_CPU or bench --cpu-loop select it)", cpu::deconvolve_cpu_path()));
            break;
        }
        case Stage::register_image: {
            const auto& img = input_image(s.case_name);
            r.run = [backend, opt, &img] { (void)backend->register_image(img, RegisterRequest{}, opt); };
            r.pixels = double(img.data.size());
            r.notes.push_back("register to level 1.5 (order 3, missing = nanmin)");
            break;
        }
    }
    return r;
}

}  // namespace aiaccel::bench
