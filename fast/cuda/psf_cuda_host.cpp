// Host half of the CUDA PSF: spots, windows, tile lists, core block (see psf_cuda_host.hpp). The
// spot and core arithmetic is psf_cpu.cpp's, operation for operation, so both fast backends place
// the same Gaussians; the spike sum itself runs on the device (psf_cuda.cu).
#include "fast/cuda/psf_cuda_host.hpp"

#include <algorithm>
#include <cmath>

namespace aiaccel::cuda {
namespace {

constexpr double kDegToRad = 0.017453292519943295;  // astropy deg → rad (one multiply)

double sinc2(double x) {  // numpy.sinc(x)**2
    const double y = 3.141592653589793 * (x == 0.0 ? 1.0e-20 : x);
    const double s = std::sin(y) / y;
    return s * s;
}

// Pixels t with |t + 0.5 − c| ≤ h, clipped to [0, n) (psf_cpu.cpp's window()).
void window(double c, double h, long n, std::int32_t& lo, std::int32_t& hi) {
    const long l = static_cast<long>(std::ceil(c - h - 0.5)), u = static_cast<long>(std::floor(c + h - 0.5)) + 1;
    lo = static_cast<std::int32_t>(std::clamp(l, 0L, n));
    hi = static_cast<std::int32_t>(std::clamp(u, 0L, n));
}

}  // namespace

std::vector<PsfSpot> psf_spots(const cpu::MeshParams& mp, cpu::Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n,
                               bool windowed) {
    const bool focal = which == cpu::Component::focal_plane;
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
    const double half = 0.5 * static_cast<double>(n);
    const double h = windowed ? cpu::underflow_half_width(mp.width) : 2.0 * static_cast<double>(n);
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
            window(sp.cy, h, static_cast<long>(n), sp.r0, sp.r1);
            window(sp.cx, h, static_cast<long>(n), sp.c0, sp.c1);
            spots.push_back(sp);
        }
    }
    return spots;
}

TileLists psf_tile_lists(const std::vector<PsfSpot>& spots, std::size_t n, std::size_t tile_rows, std::size_t tile_cols) {
    TileLists t;
    t.tile_rows = tile_rows;
    t.tile_cols = tile_cols;
    t.tiles_y = (n + tile_rows - 1) / tile_rows;
    t.tiles_x = (n + tile_cols - 1) / tile_cols;
    const std::size_t tiles = t.tiles_y * t.tiles_x;
    std::vector<std::uint32_t> count(tiles, 0);
    auto for_tiles = [&](const PsfSpot& sp, auto&& f) {
        if (sp.r0 >= sp.r1 || sp.c0 >= sp.c1) return;  // entirely off the grid
        const std::size_t ty0 = std::size_t(sp.r0) / tile_rows, ty1 = std::size_t(sp.r1 - 1) / tile_rows;
        const std::size_t tx0 = std::size_t(sp.c0) / tile_cols, tx1 = std::size_t(sp.c1 - 1) / tile_cols;
        for (std::size_t ty = ty0; ty <= ty1; ++ty)
            for (std::size_t tx = tx0; tx <= tx1; ++tx) f(ty * t.tiles_x + tx);
    };
    for (const PsfSpot& sp : spots) for_tiles(sp, [&](std::size_t tile) { ++count[tile]; });
    t.offsets.assign(tiles + 1, 0);
    for (std::size_t i = 0; i < tiles; ++i) t.offsets[i + 1] = t.offsets[i] + count[i];
    t.spots.resize(t.offsets[tiles]);
    std::vector<std::uint32_t> fill(t.offsets.begin(), t.offsets.end() - 1);
    for (std::size_t s = 0; s < spots.size(); ++s)  // spot order within each tile
        for_tiles(spots[s], [&](std::size_t tile) { t.spots[fill[tile]++] = static_cast<std::uint32_t>(s); });
    return t;
}

PsfCore psf_core(const cpu::MeshParams& mp, AiapyVersion v, std::size_t n, bool windowed) {
    const bool v10 = v == AiapyVersion::v0_10_2;
    const double w = mp.width, half = 0.5 * static_cast<double>(n), core_c = half + 0.5;
    const double h = windowed ? cpu::underflow_half_width(w) : 2.0 * static_cast<double>(n);
    std::int32_t lo, hi;
    window(core_c, h, static_cast<long>(n), lo, hi);
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

}  // namespace aiaccel::cuda
