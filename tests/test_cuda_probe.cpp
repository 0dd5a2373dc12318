// CUDA backend probe: never crashes; without a device the CUDA tests report SKIPPED with the reason.
#include <gtest/gtest.h>

#include "fast/cuda/cuda_probe.hpp"

TEST(Cuda, ProbeReportsAvailabilityAndReason) {
    auto a = aiaccel::cuda::probe();
    EXPECT_FALSE(a.reason.empty());
    if (!a.available) GTEST_SKIP() << a.reason;
    EXPECT_NE(a.reason.find("available"), std::string::npos);
}
