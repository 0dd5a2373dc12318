// Wall time and peak resident memory of one validation row. The kernel's high-water mark (VmHWM) is
// reset at the start (/proc/self/clear_refs "5", Linux ≥ 4.0), after emptying the frame pool
// (core/frame_pool), so the peak is this row's; where that is not possible it is the process's peak
// so far (getrusage ru_maxrss).
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/frame_pool.hpp"
#include "validate/result_row.hpp"

namespace aiaccel::validate {

class RowMeter {
public:
    RowMeter() {
        frame_pool_release();
        std::ofstream("/proc/self/clear_refs") << "5";
        t0_ = std::chrono::steady_clock::now();
    }
    void stop(ResultRow& r) const {
        r.time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
        std::ifstream st("/proc/self/status");
        for (std::string line; std::getline(st, line);)
            if (line.rfind("VmHWM:", 0) == 0) {
                r.peak_rss_mib = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
                return;
            }
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        r.peak_rss_mib = double(u.ru_maxrss) / 1024.0;
    }

private:
    std::chrono::steady_clock::time_point t0_;
};

}  // namespace aiaccel::validate
