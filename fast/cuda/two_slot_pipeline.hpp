// The schedule of the CUDA batch path (deconvolve_batch_cuda): two slots, each a stream with its own
// device buffers and pinned host buffers, alternate over the images so that image k's upload and
// compute overlap image k−1's on the other slot while the host loads image k+1. Plain C++ (no CUDA):
// the slot work is passed in, so tests/test_cuda_host.cpp checks the order without a device.
//   for k: img = load(k)                 (host: FITS decode, copy; the device is busy meanwhile)
//          if slot k%2 is busy: wait(slot); store(job of slot)   — results leave in order k−2, k−1, …
//          submit(slot, k, img)          (pinned copy + async upload, kernels, async download)
//   then the two last jobs are waited for and stored in order.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

namespace aiaccel::cuda {

template <class Load, class Submit, class Finish>
void run_two_slot_pipeline(std::size_t count, Load&& load, Submit&& submit, Finish&& finish) {
    std::array<bool, 2> busy{false, false};
    std::array<std::size_t, 2> job{0, 0};
    for (std::size_t k = 0; k < count; ++k) {
        const int slot = static_cast<int>(k % 2);
        auto item = load(k);  // before waiting: overlaps the device's work on both slots
        if (busy[slot]) {
            busy[slot] = false;
            finish(slot, job[slot]);
        }
        submit(slot, k, std::move(item));
        busy[slot] = true;
        job[slot] = k;
    }
    if (count == 0) return;
    const int last = static_cast<int>((count - 1) % 2);
    if (busy[1 - last]) finish(1 - last, job[1 - last]);
    if (busy[last]) finish(last, job[last]);
}

}  // namespace aiaccel::cuda
