// CUDA Richardson–Lucy (aiapy.psf.deconvolve, docs/algorithms.md §2), float64 or float32, with the same
// arithmetic order as fast/cpu/deconvolve_cpu (so its accuracy is the CPU row's): cuFFT D2Z/Z2D or
// R2C/C2R plans made once per size, precision and stream; H = rfft2(roll(psf))/(rows·cols) taken in
// float64, rounded once to T and kept resident on the device (an LRU of PSF transforms keyed by the
// PSF's content, fast/cuda/spectrum_cache.hpp); four fused pointwise kernels per iteration and no
// host round trip inside the loop.
#pragma once

#include <cstddef>
#include <functional>

#include "core/backend.hpp"
#include "core/image.hpp"

namespace aiaccel::cuda {

// Same contract as cpu::deconvolve_cpu (Error(bad_value) for mismatched or odd shapes, clip_negative
// as aiapy, NaN stays NaN). Error(unsupported) when the working set does not fit in free device memory.
// With req.on_iteration or req.on_estimate the stream is synchronised after every iteration (and the
// estimate downloaded for on_estimate), so those calls are for progress and validation, not timing.
template <class T>
Image<double> deconvolve_cuda(const Image<double>& img, const Image<double>& psf, const DeconvolveRequest& req);

// A batch with one PSF: two streams, each with its own buffers, plans and pinned host buffers, so
// that image k+1's upload and image k−1's download overlap image k's iterations, and `load(k)`
// (e.g. FITS decoding) runs on the host while the device works. `store(k, result)` receives results
// in order. The device memory for both streams is checked before anything is allocated.
template <class T>
void deconvolve_batch_cuda(std::size_t count, const std::function<Image<double>(std::size_t)>& load, const Image<double>& psf, int iterations,
                           bool clip_negative, const std::function<void(std::size_t, Image<double>&&)>& store);

struct SpectrumCacheStats {
    std::size_t entries = 0, bytes = 0, hits = 0, misses = 0, evictions = 0;
};
SpectrumCacheStats spectrum_cache_stats();
// Frees every cached PSF transform and RL workspace (tests; a process that switches to other work).
void release_deconvolve_cache();

}  // namespace aiaccel::cuda
