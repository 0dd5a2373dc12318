// Seconds on the steady clock, for the per-step time budget of `aiaccel prep` (docs/architecture.md §4).
#pragma once

#include <chrono>

namespace aiaccel {

class Stopwatch {
public:
    // Seconds since construction or the previous lap(); starts the next lap.
    double lap() {
        const auto now = std::chrono::steady_clock::now();
        const double s = std::chrono::duration<double>(now - t_).count();
        t_ = now;
        return s;
    }

private:
    std::chrono::steady_clock::time_point t_ = std::chrono::steady_clock::now();
};

}  // namespace aiaccel
