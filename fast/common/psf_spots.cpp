// The PSF setup both fast backends share (fast/common/psf_spots.hpp), written from docs/algorithms.md
// §1.1–1.2 independently of reference/.
#include "fast/common/psf_spots.hpp"

#include <algorithm>
#include <cmath>

#include "core/psf_params.hpp"

namespace aiaccel::cpu {
namespace {

constexpr double kDegToRad = 0.017453292519943295;  // astropy deg → rad (one multiply)

double sinc2(double x) {  // numpy.sinc(x)**2
    const double y = 3.141592653589793 * (x == 0.0 ? 1.0e-20 : x);
    const double s = std::sin(y) / y;
    return s * s;
}

double window_half_width(const MeshParams& mp, std::size_t n, bool windowed) {
    return windowed ? underflow_half_width(mp.width) : 2.0 * static_cast<double>(n);
}

}  // namespace

MeshParams mesh_params(int channel, bool preflight_core) {
    const PsfChannelParams& p = psf_params(channel);
    return {p.entrance_angles_deg, p.spacing_e, p.spacing_fp, preflight_core ? p.width_preflight : kPsfDefaultWidth, kMeshPitchUm / kMeshWidthUm};
}

double underflow_half_width(double w) { return std::sqrt(746.0 / w); }

void psf_window(double c, double h, long n, std::int32_t& lo, std::int32_t& hi) {
    const long l = static_cast<long>(std::ceil(c - h - 0.5)), u = static_cast<long>(std::floor(c + h - 0.5)) + 1;
    lo = static_cast<std::int32_t>(std::clamp(l, 0L, n));
    hi = static_cast<std::int32_t>(std::clamp(u, 0L, n));
}

std::vector<PsfSpot> psf_spots(const MeshParams& mp, Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n, bool windowed) {
    const bool focal = which == Component::focal_plane;
    const double s = focal ? mp.spacing_fp : mp.spacing_e;
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
    const double half = 0.5 * static_cast<double>(n), h = window_half_width(mp, n, windowed);
    std::vector<PsfSpot> spots;
    for (int m : orders) {
        const double md = static_cast<double>(m);
        if (v10 && m == 0) continue;
        const double in = v10 ? sinc2(md / mp.mesh_ratio) : sinc2(md / mp.mesh_ratio) * (m != 0 ? 1.0 : 0.0);
        for (std::size_t k = 0; k < dx.size(); ++k) {
            PsfSpot sp{};
            sp.cx = v10 ? (half + dx[k] * md) + 0.5 : (half + 0.5) + dx[k] * md;
            sp.cy = v10 ? (half + dy[k] * md) + 0.5 : (half + 0.5) + dy[k] * md;
            sp.intensity = in;
            psf_window(sp.cy, h, static_cast<long>(n), sp.r0, sp.r1);
            psf_window(sp.cx, h, static_cast<long>(n), sp.c0, sp.c1);
            spots.push_back(sp);
        }
    }
    return spots;
}

PsfCore psf_core(const MeshParams& mp, AiapyVersion v, std::size_t n, bool windowed) {
    const bool v10 = v == AiapyVersion::v0_10_2;
    const double w = mp.width, half = 0.5 * static_cast<double>(n), core_c = half + 0.5;
    std::int32_t lo, hi;
    psf_window(core_c, window_half_width(mp, n, windowed), static_cast<long>(n), lo, hi);
    const std::size_t cn = std::size_t(std::max(0, hi - lo));
    PsfCore core;
    core.block = Image<double>(cn, cn, 0.0);
    core.lo = lo;
    for (long i = lo; i < hi; ++i) {
        const double ey = v10 ? ((static_cast<double>(i) + 0.5) - half) - 0.5 : (static_cast<double>(i) + 0.5) - core_c;
        const double cy = std::exp((-w) * (ey * ey));
        double acc = 0;
        for (long j = lo; j < hi; ++j) {
            const double ex = v10 ? ((static_cast<double>(j) + 0.5) - half) - 0.5 : (static_cast<double>(j) + 0.5) - core_c;
            const double c = v10 ? std::exp((-w) * (ex * ex) - w * (ey * ey)) : cy * std::exp((-w) * (ex * ex));
            core.block(std::size_t(i - lo), std::size_t(j - lo)) = c;
            acc += c;
        }
        core.sum += acc;
    }
    return core;
}

}  // namespace aiaccel::cpu
