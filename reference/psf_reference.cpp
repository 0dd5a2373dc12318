// Reference PSF — a line-by-line port of aiapy 0.10.2 `aiapy.psf.psf` / `_psf` and aiapy 0.12.1
// `aiapy.psf.calculate_psf` / `_psf` / `_calculate_mesh_spikes` (numpy path), float64.
//
// One Gaussian at a time, in aiapy's loop order (orders outer, arms inner), with aiapy's exact
// operation order per version (docs/algorithms.md §1.2). The only liberty taken: each Gaussian is
// evaluated on the square window outside which its exp() underflows to exactly +0.0 (exponent
// < −746), because adding +0.0 leaves every pixel unchanged — the result is bitwise the full-frame
// loop's (checked against a dense evaluation in tests/test_psf_reference.cpp). Sums use numpy's
// pairwise tree over the full array. The composite uses FFTW (FFTW_ESTIMATE: deterministic plans)
// in place of numpy's pocketfft: same transform, ~1e-16 relative differences (docs/algorithms.md §7.5).
#include "reference/psf_reference.hpp"

#include <fftw3.h>

#include <array>
#include <cmath>
#include <complex>
#include <fmt/format.h>
#include <memory>

#include "core/channels.hpp"
#include "core/error.hpp"
#include "core/psf_params.hpp"
#include "reference/numpy_sum.hpp"
#include "reference/psf_detail.hpp"

namespace aiaccel::reference {
namespace detail {

// Mesh parameters come from core/psf_params (aiapy filter_mesh_parameters, identical in 0.10.2 and 0.12.1).
MeshInfo mesh_info(int channel, bool preflight_core) {
    const PsfChannelParams& p = psf_params(channel);
    return {p.entrance_angles_deg, p.spacing_e, p.spacing_fp, preflight_core ? p.width_preflight : kPsfDefaultWidth, kMeshPitchUm, kMeshWidthUm};
}

namespace {

constexpr double kDegToRad = 0.017453292519943295;  // astropy's deg → rad scale (one multiply)
constexpr double kAreaNotMesh = 0.82;

// numpy.sinc(x)**2: y = pi * (x if x != 0 else 1e-20); (sin(y)/y)**2.
double sinc_squared(double x) {
    const double y = 3.141592653589793 * (x == 0.0 ? 1.0e-20 : x);
    const double s = std::sin(y) / y;
    return s * s;
}

// Half-width of the square beyond which exp(−w·d²) underflows to exactly 0 for every pixel.
long underflow_radius(double w) { return static_cast<long>(std::ceil(std::sqrt(746.0 / w))) + 1; }

// Pixel index range [lo, hi) whose centres j + 0.5 lie within `r` of `centre`, clipped to the grid.
std::pair<long, long> window(double centre, long r, long n) {
    long lo = static_cast<long>(std::floor(centre - 0.5)) - r, hi = static_cast<long>(std::floor(centre - 0.5)) + r + 2;
    return {std::max(0L, lo), std::min(n, hi)};
}

}  // namespace

Image<double> component(const MeshInfo& mi, PsfComponentKind which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed) {
    const bool focal = which == PsfComponentKind::focal_plane;
    const double w = mi.width;
    const double spacing = focal ? mi.spacing_fp : mi.spacing_e;
    const double mesh_ratio = mi.mesh_pitch / mi.mesh_width;
    std::vector<double> angles_deg = focal ? std::vector<double>{45.0, -45.0} : std::vector<double>(mi.angles.begin(), mi.angles.end());
    std::vector<double> dx, dy;
    for (double a : angles_deg) {
        dx.push_back(spacing * std::cos(a * kDegToRad));
        dy.push_back(spacing * std::sin(a * kDegToRad));
    }
    const long N = static_cast<long>(n);
    const double half = 0.5 * static_cast<double>(n);
    const long R = windowed ? underflow_radius(w) : N;
    Image<double> S(n, n, 0.0), C(n, n, 0.0);

    for (int m : orders) {
        const double md = static_cast<double>(m);
        if (v == AiapyVersion::v0_10_2) {
            if (m == 0) continue;
            const double intensity = sinc_squared(md / mesh_ratio);
            for (std::size_t k = 0; k < dx.size(); ++k) {
                const double cx = (half + dx[k] * md) + 0.5, cy = (half + dy[k] * md) + 0.5;
                auto [i0, i1] = windowed ? window(cy, R, N) : std::pair<long, long>{0, N};
                auto [j0, j1] = windowed ? window(cx, R, N) : std::pair<long, long>{0, N};
                for (long i = i0; i < i1; ++i) {
                    const double yc = (static_cast<double>(i) + 0.5) - cy;
                    double* row = S.row(static_cast<std::size_t>(i));
                    for (long j = j0; j < j1; ++j) {
                        const double xc = (static_cast<double>(j) + 0.5) - cx;
                        row[j] = row[j] + std::exp(((-w) * xc) * xc - (w * yc) * yc) * intensity;
                    }
                }
            }
        } else {
            const double i0m = sinc_squared(md / mesh_ratio) * (m != 0 ? 1.0 : 0.0);
            const double c0 = half + 0.5;
            std::vector<double> gx(n), gy(n);
            for (std::size_t k = 0; k < dx.size(); ++k) {
                const double cx = c0 + dx[k] * md, cy = c0 + dy[k] * md;
                for (std::size_t t = 0; t < n; ++t) {
                    const double ex = (static_cast<double>(t) + 0.5) - cx, ey = (static_cast<double>(t) + 0.5) - cy;
                    gx[t] = std::exp((-w) * (ex * ex));
                    gy[t] = std::exp((-w) * (ey * ey));
                }
                auto [i0, i1] = windowed ? window(cy, R, N) : std::pair<long, long>{0, N};
                auto [j0, j1] = windowed ? window(cx, R, N) : std::pair<long, long>{0, N};
                for (long i = i0; i < i1; ++i) {
                    double* row = S.row(static_cast<std::size_t>(i));
                    for (long j = j0; j < j1; ++j) row[j] = row[j] + i0m * (gy[i] * gx[j]);
                }
            }
        }
    }
    // Gaussian core at the centre.
    const long Rc = windowed ? underflow_radius(w) : N;
    if (v == AiapyVersion::v0_10_2) {
        auto [i0, i1] = windowed ? window(half + 0.5, Rc, N) : std::pair<long, long>{0, N};
        for (long i = i0; i < i1; ++i) {
            const double ey = ((static_cast<double>(i) + 0.5) - half) - 0.5;
            for (long j = i0; j < i1; ++j) {
                const double ex = ((static_cast<double>(j) + 0.5) - half) - 0.5;
                C(i, j) = std::exp((-w) * (ex * ex) - w * (ey * ey));
            }
        }
    } else {
        std::vector<double> c(n);
        for (std::size_t t = 0; t < n; ++t) {
            const double e = (static_cast<double>(t) + 0.5) - (half + 0.5);
            c[t] = std::exp((-w) * (e * e));
        }
        auto [i0, i1] = windowed ? window(half + 0.5, Rc, N) : std::pair<long, long>{0, N};
        for (long i = i0; i < i1; ++i)
            for (long j = i0; j < i1; ++j) C(i, j) = c[i] * c[j];
    }

    const double sum_s = numpy_sum(S.data(), S.size()), sum_c = numpy_sum(C.data(), C.size());
    const double spike_weight = 1.0 - kAreaNotMesh;  // 0.18000000000000005
    Image<double> out(n, n);
    for (std::size_t p = 0; p < out.size(); ++p) {
        const double s = S.data()[p], c = C.data()[p];
        out.data()[p] = v == AiapyVersion::v0_10_2 ? ((spike_weight * s) / sum_s) + ((kAreaNotMesh * c) / sum_c)
                                                   : spike_weight * (s / sum_s) + kAreaNotMesh * (c / sum_c);
    }
    return out;
}

Image<double> combine(const Image<double>& entrance, const Image<double>& focal, AiapyVersion v) {
    const std::size_t n = entrance.rows();
    using C = std::complex<double>;
    struct Free {
        void operator()(void* p) const { fftw_free(p); }
    };
    std::unique_ptr<C[], Free> a(static_cast<C*>(fftw_malloc(sizeof(C) * n * n)));
    std::unique_ptr<C[], Free> b(static_cast<C*>(fftw_malloc(sizeof(C) * n * n)));
    if (!a || !b) throw Error(ErrorKind::internal, "out of memory for the PSF FFTs");
    // 0.10.2: fft2(focal) * fft2(entrance); 0.12.1: fft2(entrance) * fft2(focal).
    const Image<double>& first = v == AiapyVersion::v0_10_2 ? focal : entrance;
    const Image<double>& second = v == AiapyVersion::v0_10_2 ? entrance : focal;
    auto* fa = reinterpret_cast<fftw_complex*>(a.get());
    auto* fb = reinterpret_cast<fftw_complex*>(b.get());
    const int ni = static_cast<int>(n);
    fftw_plan pa = fftw_plan_dft_2d(ni, ni, fa, fa, FFTW_FORWARD, FFTW_ESTIMATE);
    fftw_plan pb = fftw_plan_dft_2d(ni, ni, fb, fb, FFTW_FORWARD, FFTW_ESTIMATE);
    for (std::size_t p = 0; p < n * n; ++p) {
        a[p] = C(first.data()[p], 0.0);
        b[p] = C(second.data()[p], 0.0);
    }
    fftw_execute(pa);
    fftw_execute(pb);
    for (std::size_t p = 0; p < n * n; ++p) {
        const double ar = a[p].real(), ai = a[p].imag(), br = b[p].real(), bi = b[p].imag();
        a[p] = C(ar * br - ai * bi, ar * bi + ai * br);
    }
    fftw_execute(pa);  // the second transform is forward too, as in aiapy
    fftw_destroy_plan(pa);
    fftw_destroy_plan(pb);
    // abs, roll by n/2 on both axes (≡ fftshift for even n), divide by n² (exact: a power of two).
    Image<double> out(n, n);
    const double norm = static_cast<double>(n) * static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) out((i + n / 2) % n, (j + n / 2) % n) = std::abs(a[i * n + j]) / norm;
    return out;
}

}  // namespace detail

namespace {
std::vector<int> orders_of(const PsfOptions& opt) {
    if (opt.diffraction_orders) return *opt.diffraction_orders;
    std::vector<int> o;
    for (int m = -100; m <= 100; ++m) o.push_back(m);
    return o;
}
}  // namespace

Image<double> psf_component(int channel, PsfComponent which, const PsfOptions& opt) {
    auto mi = detail::mesh_info(channel, opt.use_preflight_core);
    return detail::component(mi, which == PsfComponent::entrance ? detail::PsfComponentKind::entrance : detail::PsfComponentKind::focal_plane,
                             orders_of(opt), opt.version, detail::kPsfSize, true);
}

Image<double> psf(int channel, const PsfOptions& opt) {
    auto mi = detail::mesh_info(channel, opt.use_preflight_core);
    auto orders = orders_of(opt);
    Image<double> e = detail::component(mi, detail::PsfComponentKind::entrance, orders, opt.version, detail::kPsfSize, true);
    Image<double> f = detail::component(mi, detail::PsfComponentKind::focal_plane, orders, opt.version, detail::kPsfSize, true);
    return detail::combine(e, f, opt.version);
}

}  // namespace aiaccel::reference
