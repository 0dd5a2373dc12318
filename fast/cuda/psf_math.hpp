// The per-pixel arithmetic of the CUDA PSF kernels, shared by host and device (docs/architecture.md §6: CUTLASS
// style): psf_cuda.cu's kernels call these, and tests/test_cuda_host.cpp runs them on the host over
// the same tile lists and finds the result bit for bit equal to fast/cpu's psf_component_cpu (whose
// per-pixel order they follow). On the device only exp() differs (within 1 ulp of glibc's).
#pragma once

#include <math.h>

#include <cstdint>

#include "fast/cuda/psf_cuda_host.hpp"  // PsfSpot

#if defined(__CUDACC__)
#define AIACCEL_PSF_HD __host__ __device__
#else
#define AIACCEL_PSF_HD
#endif

namespace aiaccel::cuda::psfmath {

// Σ over the tile's spots (list[begin..end), in spot order) whose window holds pixel (i, j), starting
// from 0.0 and adding in psf_cpu's order; aiapy 0.10.2 evaluates one exp of the 2-D exponent, 0.12.1
// the product of two 1-D Gaussians.
template <bool V10>
AIACCEL_PSF_HD inline double spike_sum(const PsfSpot* spots, const std::uint32_t* list, std::uint32_t begin, std::uint32_t end, int i, int j,
                                       double w) {
    double acc = 0.0;
    const double x = static_cast<double>(j) + 0.5, y = static_cast<double>(i) + 0.5;
    for (std::uint32_t k = begin; k < end; ++k) {
        const PsfSpot sp = spots[list[k]];
        if (i < sp.r0 || i >= sp.r1 || j < sp.c0 || j >= sp.c1) continue;
        if (V10) {
            const double xc = x - sp.cx, yc = y - sp.cy;
            acc = acc + ::exp(((-w) * xc) * xc - (w * yc) * yc) * sp.intensity;
        } else {
            const double ex = x - sp.cx, ey = y - sp.cy;
            const double gx = ::exp((-w) * (ex * ex)), gy = ::exp((-w) * (ey * ey));
            acc = acc + sp.intensity * (gy * gx);
        }
    }
    return acc;
}

// 0.18·S/ΣS + 0.82·C/ΣC in the version's operation order (aiapy's 1 − 0.82 = 0.18000000000000005).
template <bool V10>
AIACCEL_PSF_HD inline double normalise(double s, double c, double sum_s, double sum_c) {
    const double ws = 1.0 - 0.82, wc = 0.82;
    return V10 ? ((ws * s) / sum_s) + ((wc * c) / sum_c) : ws * (s / sum_s) + wc * (c / sum_c);
}

// The core value at (i, j): the block entry inside it, 0 outside.
AIACCEL_PSF_HD inline double core_at(const double* core, long long core_lo, long long core_n, long long i, long long j) {
    const long long ci = i - core_lo, cj = j - core_lo;
    return (ci >= 0 && ci < core_n && cj >= 0 && cj < core_n) ? core[ci * core_n + cj] : 0.0;
}

}  // namespace aiaccel::cuda::psfmath
