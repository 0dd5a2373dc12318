// Transparent huge pages for large, not yet touched buffers (THP in the kernel's "madvise" mode):
// the first-touch page faults of frame-sized buffers (16.8 M pixels) otherwise cost as much as a
// PSF's Gaussians or register's prefilter (measured: the cpu PSF 0.65 s → 0.33 s). Advisory only;
// failures are ignored, values are never affected.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace aiaccel {

inline void advise_huge_pages(void* p, std::size_t bytes) {
    constexpr std::uintptr_t page = 4096;
    if (bytes < (std::size_t{8} << 20)) return;
    const auto b = (reinterpret_cast<std::uintptr_t>(p) + page - 1) & ~(page - 1);
    const auto e = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(page - 1);
    if (e > b) (void)madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
}

}  // namespace aiaccel
