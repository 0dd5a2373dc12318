// Solar-disk metrics (see disk_metrics.hpp).
#include "validate/disk_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.hpp"

namespace aiaccel::validate {

std::optional<SolarDisk> solar_disk(const AiaImage& img) {
    try {
        const AiaHeader h = img.aia();
        const auto c = h.sun_centre_px();
        const double r = std::fabs(h.sun_radius_px());
        if (!std::isfinite(c[0]) || !std::isfinite(c[1]) || !std::isfinite(r) || r <= 0) return std::nullopt;
        return SolarDisk{c[0], c[1], r};
    } catch (const Error&) {
        return std::nullopt;  // no WCS or no radius: the row keeps its whole-image metrics only
    }
}

namespace {

// max|Δ| / max|ref| and the sums over one region.
struct Region {
    long double sum_out = 0, sum_ref = 0;
    double max_d = 0, max_ref = 0;
    std::size_t n = 0;
    void add(double a, double b) {
        sum_out += a, sum_ref += b, ++n;
        max_d = std::max(max_d, std::fabs(a - b));
        max_ref = std::max(max_ref, std::fabs(b));
    }
    std::optional<double> max_rel() const {
        if (!n) return std::nullopt;
        return max_ref > 0 ? max_d / max_ref : (max_d > 0 ? INFINITY : 0.0);
    }
};

// The azimuthally averaged radial profiles of output and reference across the limb.
struct LimbProfile {
    double r0 = 0;
    std::vector<long double> out, ref;
    std::vector<std::size_t> n;
    explicit LimbProfile(double radius) : r0(kLimbInner * radius) {
        const auto bins = std::size_t(std::ceil((kLimbOuter - kLimbInner) * radius / kLimbBinPx));
        out.assign(bins, 0), ref.assign(bins, 0), n.assign(bins, 0);
    }
    void add(double rad, double a, double b) {
        if (rad < r0) return;
        const auto k = std::size_t((rad - r0) / kLimbBinPx);
        if (k >= n.size()) return;
        out[k] += a, ref[k] += b, ++n[k];
    }
    // max_k |ΔP| / max_k |P_ref|, and the number of bins holding a pixel.
    std::pair<std::optional<double>, std::size_t> error() const {
        double max_d = 0, max_p = 0;
        std::size_t bins = 0;
        for (std::size_t k = 0; k < n.size(); ++k) {
            if (!n[k]) continue;
            ++bins;
            const long double po = out[k] / n[k], pr = ref[k] / n[k];
            max_d = std::max(max_d, double(std::fabs(po - pr)));
            max_p = std::max(max_p, double(std::fabs(pr)));
        }
        if (!bins) return {std::nullopt, 0};
        return {max_p > 0 ? max_d / max_p : (max_d > 0 ? INFINITY : 0.0), bins};
    }
};

}  // namespace

DiskMetrics measure_disk(const Image<double>& out, const Image<double>& ref, const SolarDisk& disk, const std::vector<unsigned char>& compared) {
    Region on, off;
    LimbProfile limb(disk.r);
    for (std::size_t r = 0; r < ref.rows(); ++r)
        for (std::size_t c = 0; c < ref.cols(); ++c) {
            const std::size_t p = r * ref.cols() + c;
            const double a = out.data()[p], b = ref.data()[p];
            if (compared.empty() ? !(std::isfinite(a) && std::isfinite(b)) : !compared[p]) continue;
            const double rad = std::hypot(double(c) - disk.x0, double(r) - disk.y0);
            (rad <= disk.r ? on : off).add(a, b);
            limb.add(rad, a, b);
        }
    DiskMetrics dm;
    dm.on_px = on.n, dm.off_px = off.n;
    dm.on_disk = on.max_rel();
    dm.off_disk = off.max_rel();
    if (on.n && on.sum_ref != 0) dm.flux_ratio = double(on.sum_out / on.sum_ref);
    std::tie(dm.limb_profile, dm.limb_bins) = limb.error();
    return dm;
}

}  // namespace aiaccel::validate
