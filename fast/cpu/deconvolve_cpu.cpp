// Fast CPU Richardson–Lucy — the arithmetic of aiapy.psf.deconvolve (0.10.2 = 0.12.1 numpy path):
//   H = rfft2(roll(psf, n/2)); u = img; repeat: u ·= irfft2(rfft2(img / irfft2(rfft2(u)·H))·conj(H))
// Differences from reference/ (none change the mathematics):
//  * irfft2's 1/(rows·cols) is folded into H (exact: a power of two for aiapy's 4096²);
//  * fused (the default): each 2-D transform is split into its 1-D passes (fft_provider.hpp SplitFft, FFTW or MKL)
//    and the pointwise steps run while a row or a block of columns is in cache:
//      column pass:  column FFT → ·H (or ·conj(H)) → inverse column FFT, one block of columns at a time;
//      row pass:     row c2r → img/est (or u·corr) → row r2c of the next transform's input, row by row.
//    An iteration is two column passes and two row passes: 4 full-frame memory passes (each reads and
//    writes the spectrum, plus H, img or u), against at least 12 unfused (4 FFTW 2-D transforms of at
//    least a row and a column pass each, plus 4 pointwise passes). Each row and column uses the same
//    single-threaded 1-D plan whatever the thread count, so results do not depend on it;
//  * unfused (AIACCEL_DECONVOLVE_CPU=unfused, kept for comparison): the provider's 2-D r2c/c2r plans
//    with its own threads, made once per (provider, precision, size, threads) and cached (FFTW_MEASURE
//    by default, fftw_cpu.hpp), and four separate pointwise passes: spectrum·H, img/est, spectrum·conj(H), u·corr;
//  * pointwise steps are plain loops that g++ -O3 vectorises (SSE2 baseline), spread over the
//    persistent pool in contiguous blocks (fast/common/parallel.hpp).
#include "fast/cpu/deconvolve_cpu.hpp"

#include <complex>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>
#include <type_traits>
#include <fmt/format.h>

#include "core/backend.hpp"
#include "core/error.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "fast/cpu/fftw_cpu.hpp"
#include "fast/common/parallel.hpp"

namespace aiaccel::cpu {
namespace {

// s ← s·h (conj = false) or s·conj(h) (conj = true), numpy's (ar·br − ai·bi, ar·bi + ai·br); interleaved re/im.
template <class T, bool Conj>
void multiply_span(std::complex<T>* s, const std::complex<T>* h, std::size_t count) {
    T* __restrict sp = reinterpret_cast<T*>(s);
    const T* __restrict hp = reinterpret_cast<const T*>(h);
    for (std::size_t k = 0; k < 2 * count; k += 2) {
        const T ar = sp[k], ai = sp[k + 1], br = hp[k], bi = Conj ? -hp[k + 1] : hp[k + 1];
        sp[k] = ar * br - ai * bi;
        sp[k + 1] = ar * bi + ai * br;
    }
}

template <class T, bool Conj>
void spectrum_multiply(std::complex<T>* s, const std::complex<T>* h, std::size_t count, int threads) {
    parallel_for(count, threads, [&](std::size_t b, std::size_t e, std::size_t) { multiply_span<T, Conj>(s + b, h + b, e - b); });
}

// The unfused loop: the provider's 2-D plans (its threads) and four pointwise passes per iteration.
template <class T>
void richardson_lucy_unfused(std::size_t rows, std::size_t cols, const T* ip, T* up, const std::complex<T>* H, int iterations, int threads,
                             const std::function<void(int)>& after) {
    const std::size_t n = rows * cols;
    const RealFft<T>& plans = cached_plans<T>(rows, cols, threads);
    const std::size_t ns = rows * plans.half_cols();
    auto spec = fftw_buffer<T, std::complex<T>>(ns);
    Image<T> est(rows, cols);
    T* const ep = est.data();
    for (int it = 0; it < iterations; ++it) {
        plans.forward(up, spec.get());
        spectrum_multiply<T, false>(spec.get(), H, ns, threads);
        plans.inverse(spec.get(), ep);
        parallel_for(n, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t p = b; p < e; ++p) ep[p] = ip[p] / ep[p];
        });
        plans.forward(ep, spec.get());
        spectrum_multiply<T, true>(spec.get(), H, ns, threads);
        plans.inverse(spec.get(), ep);
        parallel_for(n, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t p = b; p < e; ++p) up[p] = up[p] * ep[p];
        });
        after(it + 1);
    }
}

// The fused loop (see the top of the file). The spectrum is kept as rows of ld ≥ cols/2+1 complex
// (ld a whole number of column blocks; the padding columns stay zero), H re-laid block by block so
// each column pass streams it.
// The fused loop's column block (one 64-byte cache line of a row) and padded spectrum row length.
template <class T>
constexpr std::size_t kFusedBlock = 64 / sizeof(std::complex<T>);
template <class T>
std::size_t fused_row_length(std::size_t cols) {
    return (cols / 2 + 1 + kFusedBlock<T> - 1) / kFusedBlock<T> * kFusedBlock<T>;
}

template <class T>
void richardson_lucy_fused(std::size_t rows, std::size_t cols, const T* ip, T* up, FftwBuffer<T, std::complex<T>>& H, int iterations, int threads,
                           const std::function<void(int)>& after) {
    using C = std::complex<T>;
    constexpr std::size_t B = kFusedBlock<T>;
    const std::size_t ns = cols / 2 + 1, ld = fused_row_length<T>(cols), nblk = ld / B;
    const SplitFft<T>& plans = cached_split_plans<T>(rows, cols, B, fftw_planner_flags());
    auto Hb = fftw_buffer<T, C>(rows * ld);
    C* const hb = Hb.get();
    parallel_for(rows, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t r = b; r < e; ++r)
            for (std::size_t c = 0; c < ld; ++c) hb[((c / B) * rows + r) * B + c % B] = c < ns ? H[r * ns + c] : C(0);
    });
    H.reset();  // H has the spectrum's size (see deconvolve_cpu), so the frame pool hands its block to S
    auto S = fftw_buffer<T, C>(rows * ld);
    C* const sp = S.get();
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = ns; c < ld; ++c) sp[r * ld + c] = C(0);
    const std::size_t slots = static_cast<std::size_t>(threads);
    std::vector<FftwBuffer<T, T>> row_work;
    std::vector<FftwBuffer<T, C>> col_work;
    for (std::size_t t = 0; t < slots; ++t) {
        row_work.push_back(fftw_buffer<T, T>(cols));
        col_work.push_back(fftw_buffer<T, C>(rows * B));
    }
    // Column pass: for each block, gather, forward column FFT, ·H or ·conj(H), inverse column FFT, scatter.
    auto column_pass = [&](auto conj) {
        parallel_for(nblk, threads, [&](std::size_t b, std::size_t e, std::size_t slot) {
            C* const w = col_work[slot].get();
            for (std::size_t k = b; k < e; ++k) {
                for (std::size_t r = 0; r < rows; ++r) std::memcpy(w + r * B, sp + r * ld + k * B, B * sizeof(C));
                plans.col_forward(w);
                multiply_span<T, decltype(conj)::value>(w, hb + k * rows * B, rows * B);
                plans.col_inverse(w);
                for (std::size_t r = 0; r < rows; ++r) std::memcpy(sp + r * ld + k * B, w + r * B, B * sizeof(C));
            }
        });
    };
    // Row pass: step(i, row) between an optional row c2r of the spectrum and an optional row r2c back.
    auto row_pass = [&](bool inverse_first, bool forward_after, auto step) {
        parallel_for(rows, threads, [&](std::size_t b, std::size_t e, std::size_t slot) {
            T* const w = row_work[slot].get();
            for (std::size_t i = b; i < e; ++i) {
                if (inverse_first) plans.row_inverse(sp + i * ld, w);
                step(i * cols, w);
                if (forward_after) plans.row_forward(w, sp + i * ld);
            }
        });
    };
    row_pass(false, true, [&](std::size_t o, T* w) { std::memcpy(w, up + o, cols * sizeof(T)); });
    for (int it = 0; it < iterations; ++it) {
        column_pass(std::false_type{});
        row_pass(true, true, [&](std::size_t o, T* w) {
            for (std::size_t j = 0; j < cols; ++j) w[j] = ip[o + j] / w[j];
        });
        column_pass(std::true_type{});
        row_pass(true, it + 1 < iterations, [&](std::size_t o, T* w) {
            for (std::size_t j = 0; j < cols; ++j) w[j] = up[o + j] = up[o + j] * w[j];
        });
        after(it + 1);
    }
}

}  // namespace

const char* deconvolve_cpu_path() {
    const char* e = std::getenv("AIACCEL_DECONVOLVE_CPU");
    return e && std::string_view(e) == "unfused" ? "unfused" : "fused";
}

void set_deconvolve_cpu_path(std::string_view path) {
    if (path != "fused" && path != "unfused") throw Error(ErrorKind::usage, fmt::format("cpu loop '{}': expected fused or unfused", path));
    setenv("AIACCEL_DECONVOLVE_CPU", std::string(path).c_str(), 1);
}

template <class T>
Image<double> deconvolve_cpu(const Image<double>& image, const Image<double>& psf, const DeconvolveRequest& req, int threads) {
    const std::size_t rows = image.rows(), cols = image.cols(), n = rows * cols;
    const int iterations = req.iterations;
    const bool clip_negative = req.clip_negative;
    check_deconvolve_inputs(image, psf, iterations);
    threads = resolve_threads(threads);

    Image<T> img(rows, cols);
    parallel_for(n, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t p = b; p < e; ++p) {
            const double v = image.data()[p];
            img.data()[p] = static_cast<T>((clip_negative && v < 0) ? 0.0 : v);
        }
    });
    Image<T> u = img;
    if (iterations == 0) return u.template cast<double>();

    // H/(rows·cols) in float64, rounded once to T. For float32 runs this float64 transform is a one-off:
    // FFTW_ESTIMATE unless stored wisdom makes measured plans free.
    const unsigned h_flags = std::is_same_v<T, double> || fftw_wisdom_enabled() ? fftw_planner_flags() : unsigned(FFTW_ESTIMATE);
    const RealFft<double>& p64 = cached_plans<double>(rows, cols, threads, h_flags);
    const std::size_t ns = rows * p64.half_cols();
    const bool fused = std::string_view(deconvolve_cpu_path()) == "fused";
    // Fused: H is allocated at the padded spectrum's size (only its first ns entries used), so that
    // once it is re-laid and freed the frame pool reuses its block for the spectrum.
    auto H = fftw_buffer<T, std::complex<T>>(fused ? rows * fused_row_length<T>(cols) : ns);
    {
        Image<double> rolled(rows, cols);
        for (std::size_t i = 0; i < rows; ++i) {
            const double* src = psf.row(i);
            double* dst = rolled.row((i + rows / 2) % rows);
            for (std::size_t j = 0; j < cols; ++j) dst[(j + cols / 2) % cols] = src[j];
        }
        // Fused float64: at the padded size too, so the frame pool reuses this block for the re-laid H.
        auto h64 = fftw_buffer<double, std::complex<double>>(fused && std::is_same_v<T, double> ? rows * fused_row_length<T>(cols) : ns);
        p64.forward(rolled.data(), h64.get());
        const double scale = 1.0 / (static_cast<double>(rows) * static_cast<double>(cols));
        for (std::size_t k = 0; k < ns; ++k) H[k] = std::complex<T>(static_cast<T>(h64[k].real() * scale), static_cast<T>(h64[k].imag() * scale));
    }

    // After each iteration, on this thread: progress, and the estimate u (updated in place by both loops).
    const std::function<void(int)> after = [&](int done) {
        if (req.on_iteration) req.on_iteration(done, iterations);
        if (!req.on_estimate) return;
        EstimateView v{.iteration = done, .rows = rows, .cols = cols};
        if constexpr (std::is_same_v<T, double>)
            v.f64 = u.data();
        else
            v.f32 = u.data();
        req.on_estimate(v);
    };
    if (fused)
        richardson_lucy_fused<T>(rows, cols, img.data(), u.data(), H, iterations, threads, after);
    else
        richardson_lucy_unfused<T>(rows, cols, img.data(), u.data(), H.get(), iterations, threads, after);
    return u.template cast<double>();
}

template Image<double> deconvolve_cpu<double>(const Image<double>&, const Image<double>&, const DeconvolveRequest&, int);
template Image<double> deconvolve_cpu<float>(const Image<double>&, const Image<double>&, const DeconvolveRequest&, int);

}  // namespace aiaccel::cpu
