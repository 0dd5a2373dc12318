// Memory for frame-sized buffers (≥ 8 MiB: images, FFT spectra): 64-byte aligned, with transparent
// huge pages advised on fresh blocks (THP "madvise" mode), and a process-wide pool that keeps freed
// blocks for reuse by the next allocation of exactly the same size. A block from the kernel pays
// first-touch page faults — on this project's VMs about as long as two full passes over it (128 MiB:
// ~33 ms with THP, ~75 ms without, against ~16 ms to write it once) — so a process that handles many
// images (prep batches, validate, bench repetitions) pays them once per buffer, not once per image.
// A pooled block is handed out dirty: an Image or FFT buffer has indeterminate contents until written,
// as with operator new. The pool holds at most $AIACCEL_FRAME_POOL_MIB MiB (default 1536; 0 turns it
// off); a miss that would exceed the cap first releases pooled blocks of other sizes.
#pragma once

#include <cstddef>

namespace aiaccel {

inline constexpr std::size_t kFrameAlignment = 64;
inline constexpr std::size_t kFramePoolMinBytes = std::size_t{8} << 20;

// Throws std::bad_alloc when memory is exhausted. bytes == 0 gives nullptr.
void* frame_alloc(std::size_t bytes);
// `bytes` must be the size given to frame_alloc. nullptr is ignored.
void frame_free(void* p, std::size_t bytes) noexcept;

struct FramePoolStats {
    std::size_t cached_bytes = 0, cap_bytes = 0, hits = 0, misses = 0;
};
FramePoolStats frame_pool_stats();
// Releases every pooled block (tests; a caller about to need memory of other sizes).
void frame_pool_release();

}  // namespace aiaccel
