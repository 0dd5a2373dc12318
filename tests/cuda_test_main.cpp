// main() for CUDA test programs: without a usable device the whole program reports SKIPPED to
// meson (exit code 77) with the probe's reason, so CUDA tests never count as PASSED on a
// machine that could not run them.
#include <gtest/gtest.h>

#include <cstdio>

#include "fast/cuda/cuda_probe.hpp"

int main(int argc, char** argv) {
    auto a = aiaccel::cuda::probe();
    if (!a.available) {
        std::printf("SKIPPED: %s\n", a.reason.c_str());
        return 77;
    }
    std::printf("%s\n", a.reason.c_str());
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
