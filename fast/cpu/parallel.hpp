// Tiny static-partition parallel_for for the fast CPU backend's pointwise passes and PSF rows.
// Each index range is split into `threads` contiguous blocks, so the work done per element (and
// any per-block reduction order) depends only on the thread count, never on scheduling.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace aiaccel::cpu {

// Threads to use for `requested` (0 = hardware concurrency, at least 1).
inline int resolve_threads(int requested) {
    if (requested > 0) return requested;
    const unsigned hc = std::thread::hardware_concurrency();
    return hc ? static_cast<int>(hc) : 1;
}

// Calls f(begin, end, block) on `threads` contiguous blocks of [0, n); block 0 runs on the caller.
template <class F>
void parallel_for(std::size_t n, int threads, F&& f) {
    const std::size_t t = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), n));
    if (t == 1) { f(std::size_t{0}, n, std::size_t{0}); return; }
    std::vector<std::jthread> pool;
    pool.reserve(t - 1);
    auto bounds = [&](std::size_t b) { return n * b / t; };
    for (std::size_t b = 1; b < t; ++b) pool.emplace_back([&, b] { f(bounds(b), bounds(b + 1), b); });
    f(bounds(0), bounds(1), std::size_t{0});
}

}  // namespace aiaccel::cpu
