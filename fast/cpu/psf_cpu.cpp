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
#include <fmt/format.h>
#include <utility>

#include "core/channels.hpp"
#include "core/psf_params.hpp"
#include "core/error.hpp"
#include "fast/cpu/fftw_cpu.hpp"
#include "fast/cpu/parallel.hpp"

namespace aiaccel::cpu {

MeshParams mesh_params(int channel, bool preflight_core) {
    const PsfChannelParams& p = psf_params(channel);
    return {p.entrance_angles_deg, p.spacing_e, p.spacing_fp, preflight_core ? p.width_preflight : kPsfDefaultWidth, kMeshPitchUm / kMeshWidthUm};
}

double underflow_half_width(double w) { return std::sqrt(746.0 / w); }

namespace {

constexpr double kDegToRad = 0.017453292519943295;  // astropy deg → rad (one multiply)

double sinc2(double x) {  // numpy.sinc(x)**2
    const double y = 3.141592653589793 * (x == 0.0 ? 1.0e-20 : x);
    const double s = std::sin(y) / y;
    return s * s;
}

struct Spot {
    double cx, cy, intensity;
};
struct Range {
    long lo, hi;
};  // [lo, hi)

// Pixels t with |t + 0.5 − c| ≤ h (all others underflow), clipped to [0, n).
Range window(double c, double h, long n) {
    const long lo = static_cast<long>(std::ceil(c - h - 0.5)), hi = static_cast<long>(std::floor(c + h - 0.5)) + 1;
    return {std::clamp(lo, 0L, n), std::clamp(hi, 0L, n)};
}

}  // namespace

Image<double> psf_component_cpu(const MeshParams& mp, Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed,
                                int threads) {
    const bool focal = which == Component::focal_plane;
    const double w = mp.width, s = focal ? mp.spacing_fp : mp.spacing_e;
    std::vector<double> dx, dy;
    auto add_arm = [&](double deg) {
        dx.push_back(s * std::cos(deg * kDegToRad));
        dy.push_back(s * std::sin(deg * kDegToRad));
    };
    if (focal) {
        add_arm(45.0);
        add_arm(-45.0);
    } else
        for (double a : mp.entrance_angles_deg) add_arm(a);

    const bool v10 = v == AiapyVersion::v0_10_2;
    const double half = 0.5 * static_cast<double>(n);
    std::vector<Spot> spots;  // aiapy order: orders outer, arms inner
    for (int m : orders) {
        const double md = static_cast<double>(m);
        if (v10 && m == 0) continue;
        const double in = v10 ? sinc2(md / mp.mesh_ratio) : sinc2(md / mp.mesh_ratio) * (m != 0 ? 1.0 : 0.0);
        for (std::size_t k = 0; k < dx.size(); ++k)
            spots.push_back(v10 ? Spot{(half + dx[k] * md) + 0.5, (half + dy[k] * md) + 0.5, in}
                                : Spot{(half + 0.5) + dx[k] * md, (half + 0.5) + dy[k] * md, in});
    }
    const long N = static_cast<long>(n);
    const double h = windowed ? underflow_half_width(w) : 2.0 * static_cast<double>(n);
    const double core_c = half + 0.5;
    const Range core = window(core_c, h, N);

    Image<double> S(n, n, 0.0);
    std::vector<double> row_s(n, 0.0), row_c(n, 0.0);
    // Spike sum S (and the per-row sums of S and of the core C) over row bands.
    parallel_for(n, threads, [&](std::size_t r0, std::size_t r1, std::size_t) {
        std::vector<double> gx(n);
        for (const Spot& sp : spots) {
            const Range ri = window(sp.cy, h, N), rj = window(sp.cx, h, N);
            const long i0 = std::max<long>(ri.lo, long(r0)), i1 = std::min<long>(ri.hi, long(r1));
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
    // Core C, nonzero only on the core window: kept as a small block.
    const std::size_t cn = std::size_t(std::max(0L, core.hi - core.lo));
    Image<double> C(cn, cn, 0.0);
    for (long i = core.lo; i < core.hi; ++i) {
        const double ey = v10 ? ((static_cast<double>(i) + 0.5) - half) - 0.5 : (static_cast<double>(i) + 0.5) - core_c;
        const double cy = std::exp((-w) * (ey * ey));
        double acc = 0;
        for (long j = core.lo; j < core.hi; ++j) {
            const double ex = v10 ? ((static_cast<double>(j) + 0.5) - half) - 0.5 : (static_cast<double>(j) + 0.5) - core_c;
            const double c = v10 ? std::exp((-w) * (ex * ex) - w * (ey * ey)) : cy * std::exp((-w) * (ex * ex));
            C(std::size_t(i - core.lo), std::size_t(j - core.lo)) = c;
            acc += c;
        }
        row_c[std::size_t(i)] = acc;
    }
    double sum_s = 0, sum_c = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum_s += row_s[i];
        sum_c += row_c[i];
    }

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
