// Fast CPU PSF — same mathematics as aiapy 0.10.2 `psf`/`_psf` and 0.12.1 `calculate_psf`/
// `_calculate_mesh_spikes` (docs/algorithms.md §1.2–1.4), not the same code path as reference/:
//  * each Gaussian is evaluated only on the square window outside which exp() is exactly +0.0
//    (exponent < −746), so skipping it changes no bit (tests/test_cpu_backend.cpp proves it
//    against a dense evaluation);
//  * row bands are spread over threads; every thread walks all spots in aiapy's order, so each
//    pixel sees the same additions in the same order for any thread count;
//  * the composite P[k] = |(A ⊛ B)[(n/2 − k) mod n]| / n²·n² is one circular convolution: r2c(A),
//    r2c(B), product, c2r — three real transforms (≈ 1.5 complex ones) instead of aiapy's three
//    complex 4096² FFTs; FFTW threads (plan effort: see psf_combine_cpu).
#include "fast/cpu/psf_cpu.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <utility>

#include "core/error.hpp"
#include "fast/cpu/fftw_cpu.hpp"
#include "fast/common/parallel.hpp"

namespace aiaccel::cpu {
namespace {

struct Range {
    long lo, hi;
};  // [lo, hi)

}  // namespace

Image<double> psf_component_cpu(const MeshParams& mp, Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed,
                                int threads) {
    const bool v10 = v == AiapyVersion::v0_10_2;
    const double w = mp.width;
    const std::vector<PsfSpot> spots = psf_spots(mp, which, orders, v, n, windowed);  // aiapy order: orders outer, arms inner
    Image<double> S(n, n, 0.0);
    std::vector<double> row_s(n, 0.0);
    // Spike sum S (and the per-row sums of S and of the core C) over row bands.
    parallel_for(n, threads, [&](std::size_t r0, std::size_t r1, std::size_t) {
        std::vector<double> gx(n);
        for (const PsfSpot& sp : spots) {
            const Range rj{sp.c0, sp.c1};
            const long i0 = std::max<long>(sp.r0, long(r0)), i1 = std::min<long>(sp.r1, long(r1));
            if (i0 >= i1 || rj.lo >= rj.hi) continue;
            if (v10) {
                for (long i = i0; i < i1; ++i) {
                    const double yc = (static_cast<double>(i) + 0.5) - sp.cy;
                    double* row = S.row(std::size_t(i));
                    for (long j = rj.lo; j < rj.hi; ++j) {
                        const double xc = (static_cast<double>(j) + 0.5) - sp.cx;
                        row[j] = row[j] + std::exp(((-w) * xc) * xc - (w * yc) * yc) * sp.intensity;
                    }
                }
            } else {
                for (long j = rj.lo; j < rj.hi; ++j) {
                    const double e = (static_cast<double>(j) + 0.5) - sp.cx;
                    gx[std::size_t(j)] = std::exp((-w) * (e * e));
                }
                for (long i = i0; i < i1; ++i) {
                    const double e = (static_cast<double>(i) + 0.5) - sp.cy;
                    const double gy = std::exp((-w) * (e * e));
                    double* row = S.row(std::size_t(i));
                    for (long j = rj.lo; j < rj.hi; ++j) row[j] = row[j] + sp.intensity * (gy * gx[std::size_t(j)]);
                }
            }
        }
        for (std::size_t i = r0; i < r1; ++i) {
            double acc = 0;
            const double* row = S.row(i);
            for (std::size_t j = 0; j < n; ++j) acc += row[j];
            row_s[i] = acc;
        }
    });
    // Core C, nonzero only on the core window: kept as a small block (ΣC: its row sums in row order).
    const PsfCore core_c = psf_core(mp, v, n, windowed);
    const Image<double>& C = core_c.block;
    const Range core{long(core_c.lo), long(core_c.lo) + long(C.rows())};
    double sum_s = 0;
    for (std::size_t i = 0; i < n; ++i) sum_s += row_s[i];
    const double sum_c = core_c.sum;

    const double ws = 1.0 - 0.82, wc = 0.82;  // 0.18000000000000005, as aiapy's 1 − area_not_mesh
    parallel_for(n, threads, [&](std::size_t r0, std::size_t r1, std::size_t) {
        for (std::size_t i = r0; i < r1; ++i) {
            double* row = S.row(i);
            const bool in_core = long(i) >= core.lo && long(i) < core.hi;
            for (std::size_t j = 0; j < n; ++j) {
                const double c = in_core && long(j) >= core.lo && long(j) < core.hi ? C(i - std::size_t(core.lo), j - std::size_t(core.lo)) : 0.0;
                row[j] = v10 ? ((ws * row[j]) / sum_s) + ((wc * c) / sum_c) : ws * (row[j] / sum_s) + wc * (c / sum_c);
            }
        }
    });
    return S;
}

Image<double> psf_combine_cpu(Image<double> entrance, Image<double> focal, AiapyVersion v, int threads) {
    const std::size_t n = entrance.rows();
    if (entrance.cols() != n || focal.rows() != n || focal.cols() != n || n % 2)
        throw Error(ErrorKind::internal, "cpu psf: components must be square, of one even size");
    // Three transforms per PSF: without stored wisdom FFTW_MEASURE would spend longer planning 4096²
    // (~9 s here) than it saves, so FFTW_ESTIMATE (ms, deterministic) unless a wisdom file is in use (the
    // default): then the measured plans come from the file after the first run.
    const unsigned flags = fftw_wisdom_enabled() ? fftw_planner_flags() : unsigned(FFTW_ESTIMATE);
    const RealFft<double>& plans = cached_plans<double>(n, n, threads, flags);
    const std::size_t hc = plans.half_cols(), ns = n * hc;
    auto fa = fftw_buffer<double, std::complex<double>>(ns), fb = fftw_buffer<double, std::complex<double>>(ns);
    // aiapy multiplies fft2(focal)·fft2(entrance) in 0.10.2 and the other way round in 0.12.1. The plans
    // run on the components' own (64-byte aligned) storage: no staging copies.
    const bool v10 = v == AiapyVersion::v0_10_2;
    plans.forward((v10 ? focal : entrance).data(), fa.get());
    plans.forward((v10 ? entrance : focal).data(), fb.get());
    parallel_for(ns, threads, [&](std::size_t b, std::size_t e, std::size_t) {
        std::complex<double>* a = fa.get();
        const std::complex<double>* bb = fb.get();
        for (std::size_t k = b; k < e; ++k) {
            const double ar = a[k].real(), ai = a[k].imag(), br = bb[k].real(), bi = bb[k].imag();
            a[k] = {ar * br - ai * bi, ar * bi + ai * br};
        }
    });
    fb.reset();
    Image<double>& conv = entrance;  // = n²·(A ⊛ B), over the entrance component
    plans.inverse(fa.get(), conv.data());
    // out[k] = |conv[(n/2 − k) mod n]| / n² on both axes (two forward FFTs reflect; roll by n/2), written
    // over the focal component; along a row, k ≤ n/2 reads n/2 − k and k > n/2 reads 3n/2 − k.
    Image<double> out = std::move(focal);
    const double inv = 1.0 / (static_cast<double>(n) * static_cast<double>(n));
    const std::size_t h = n / 2;
    parallel_for(n, threads, [&](std::size_t r0, std::size_t r1, std::size_t) {
        for (std::size_t i = r0; i < r1; ++i) {
            const double* src = conv.row((h + n - i) % n);
            double* dst = out.row(i);
            for (std::size_t j = 0; j <= h; ++j) dst[j] = std::abs(src[h - j]) * inv;
            for (std::size_t j = h + 1; j < n; ++j) dst[j] = std::abs(src[h + n - j]) * inv;
        }
    });
    return out;
}

Image<double> psf_cpu(int channel, bool preflight_core, AiapyVersion v, int threads) {
    threads = resolve_threads(threads);
    const MeshParams mp = mesh_params(channel, preflight_core);
    std::vector<int> orders;
    for (int m = -100; m <= 100; ++m) orders.push_back(m);
    constexpr std::size_t n = 4096;
    Image<double> e = psf_component_cpu(mp, Component::entrance, orders, v, n, true, threads);
    Image<double> f = psf_component_cpu(mp, Component::focal_plane, orders, v, n, true, threads);
    return psf_combine_cpu(std::move(e), std::move(f), v, threads);
}

}  // namespace aiaccel::cpu
