// Host-side logic of the CUDA backend that is not a kernel (docs/architecture.md §6: CUTLASS style — testable on a
// machine without a GPU, tests/test_cuda_host.cpp): device-memory budgets of each stage, the check
// that a working set fits in the free device memory, launch geometry, cuFFT plan-cache keys and the
// content key of a PSF whose transform is kept resident. Compiled by g++ in every build.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/backend.hpp"  // Precision
#include "core/image.hpp"

namespace aiaccel::cuda {

inline std::size_t real_bytes(Precision p) { return p == Precision::f64 ? 8 : 4; }
// Complex elements of an r2c half spectrum of a rows×cols real array: rows·(cols/2 + 1).
inline std::size_t half_spectrum_elems(std::size_t rows, std::size_t cols) { return rows * (cols / 2 + 1); }

// ---- device-memory budgets ------------------------------------------------------------------------
// Each item is a cudaMalloc the stage makes; fft_workspace is cuFFT's work area (cufftGetSize at run
// time; estimate_fft_workspace() before any plan exists).
struct Budget {
    std::string what;  // "Richardson-Lucy 4096x4096 f64", for messages
    std::size_t buffers = 0;  // images, spectra, staging
    std::size_t resident = 0;  // kept across calls (the PSF transform H)
    std::size_t fft_workspace = 0;
    std::size_t total() const { return buffers + resident + fft_workspace; }
};
// cuFFT's work area for one 2-D r2c or c2r plan, an upper estimate: one half spectrum.
std::size_t estimate_fft_workspace(std::size_t rows, std::size_t cols, Precision p);

// Richardson–Lucy on one stream: img, u, est (T), the spectrum (complex T) and for f32 the f64
// staging buffer (f64 runs upload into img) unless `buffers_allocated` (a cached workspace of this
// size); H (complex T, resident) plus, while H is made, the rolled f64 PSF and its f64 spectrum
// (transient) unless `h_cached`.
Budget rl_budget(std::size_t rows, std::size_t cols, Precision p, bool buffers_allocated = false, bool h_cached = false);
// PSF on an n×n grid: two f64 components, two f64 half spectra, the tile lists and the core block.
Budget psf_budget(std::size_t n, std::size_t tile_list_entries, std::size_t core_elems);
// Register: the f64 input, its prefiltered coefficients, the output, and with a NaN mask the NaN
// counts of the input (f64) and the filled copy.
Budget register_budget(std::size_t in_rows, std::size_t in_cols, std::size_t out_rows, std::size_t out_cols, bool nan_mask);

// Throws Error(unsupported) naming the stage, the bytes it needs and the bytes free on `device`
// when budget.total() exceeds free_bytes minus a reserve (64 MiB: the context and cuFFT plans'
// small allocations); returns otherwise. Never a crash or an out-of-memory half way through.
void require_fits(const Budget& budget, std::size_t free_bytes, const std::string& device);
bool fits(const Budget& budget, std::size_t free_bytes);  // the same test, without throwing
inline constexpr std::size_t kDeviceReserveBytes = std::size_t(64) << 20;

// ---- launch geometry --------------------------------------------------------------------------------
struct Launch1d {
    unsigned blocks = 0, threads = 0;
};
// Enough blocks of `threads` for `count` items, capped at max_blocks (kernels use grid-stride loops);
// count 0 gives 0 blocks (the caller launches nothing).
Launch1d launch_1d(std::size_t count, unsigned threads = 256, unsigned max_blocks = 65535u * 16u);
struct Launch2d {
    unsigned gx = 0, gy = 0, bx = 0, by = 0;
};
// Tiles of bx×by threads covering cols×rows (x = column); gy ≤ 65535 (CUDA's limit) else Error(unsupported).
Launch2d launch_2d(std::size_t rows, std::size_t cols, unsigned bx = 32, unsigned by = 8);

// ---- cuFFT plan cache keys ------------------------------------------------------------------------------
enum class FftKind : std::uint8_t { r2c, c2r };
struct PlanKey {
    std::size_t rows = 0, cols = 0;
    Precision precision = Precision::f64;
    FftKind kind = FftKind::r2c;
    int slot = 0;  // stream slot: a plan is bound to one stream (cufftSetStream), so each slot has its own
    friend bool operator==(const PlanKey&, const PlanKey&) = default;
};
struct PlanKeyHash {
    std::size_t operator()(const PlanKey& k) const noexcept;
};

// ---- resident PSF transforms ---------------------------------------------------------------------------
// The key of a PSF spectrum kept on the device: shape, compute precision and a 64-bit hash of every
// byte of the PSF, so a different PSF (or one edited in place) never reuses a stale H.
struct SpectrumKey {
    std::size_t rows = 0, cols = 0;
    Precision precision = Precision::f64;
    std::uint64_t content = 0;
    friend bool operator==(const SpectrumKey&, const SpectrumKey&) = default;
};
struct SpectrumKeyHash {
    std::size_t operator()(const SpectrumKey& k) const noexcept;
};
// 64-bit hash of all bytes of the image (four interleaved multiply-xorshift lanes over 8-byte words,
// 16 fixed chunks hashed on up to 16 threads: about memory speed, a few ms for a 4096² f64 PSF).
// Not cryptographic: it tells PSFs apart, it does not resist adversaries.
std::uint64_t content_hash(const Image<double>& img);
SpectrumKey spectrum_key(const Image<double>& psf, Precision p);

std::string format_bytes(std::size_t bytes);  // "1.25 GiB", "512.0 MiB", "900 B"

// ---- the PSF roll as copies -------------------------------------------------------------------------
// numpy's roll(psf, (rows/2, cols/2)) for even sizes is a swap of quadrants: four rectangular copies
// (cudaMemcpy2D) straight into the device buffer the PSF's transform reads.
struct CopyRect {
    std::size_t src_row, src_col, dst_row, dst_col, rows, cols;
};
std::array<CopyRect, 4> roll_half_copies(std::size_t rows, std::size_t cols);

// ---- device timings ----------------------------------------------------------------------------------
// CUDA-event times of a stage's last call ("psf", "deconvolve", "register"), milliseconds: host→device
// copies, device work (kernels + cuFFT), device→host copies. For reports and the GPU checks; never
// asserted. `valid` is false before the first call and when the events could not be read (then
// `error` says why and the times are NaN, never a plausible 0 ms).
struct StageTiming {
    double upload_ms = 0, compute_ms = 0, download_ms = 0;
    bool valid = false;
    std::string error = "no call timed yet";
    double total_ms() const { return upload_ms + compute_ms + download_ms; }
};
void record_timing(const std::string& stage, const StageTiming& t);
// Marks the stage's timing invalid ("the last call did not finish") until record_timing: a call that
// throws leaves no stale times of an earlier call behind.
void begin_timing(const std::string& stage);
StageTiming last_timing(const std::string& stage);

}  // namespace aiaccel::cuda
