// Image<T> / ImageView<T>: layout, alignment, views, copies; the frame pool behind Image and FFT buffers.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/image.hpp"

using aiaccel::Image;

TEST(Image, RowMajorAndAligned) {
    Image<float> img(3, 5, 0.0f);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(img.data()) % 64, 0u);
    img(1, 2) = 7.0f;
    EXPECT_EQ(img.data()[1 * 5 + 2], 7.0f);
    EXPECT_EQ(img.row(1)[2], 7.0f);
    Image<double> d(4, 4);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(d.data()) % 64, 0u);
}

TEST(Image, ViewsShareStorage) {
    Image<double> img(4, 6, 1.0);
    auto v = img.view().sub(1, 2, 2, 3);
    EXPECT_EQ(v.rows(), 2u);
    EXPECT_EQ(v.cols(), 3u);
    EXPECT_EQ(v.stride(), 6u);
    v(1, 2) = 5.0;
    EXPECT_EQ(img(2, 4), 5.0);
    EXPECT_THROW((void)img.view().sub(3, 0, 2, 1), std::out_of_range);
}

TEST(Image, CopyIsDeepMoveIsCheap) {
    Image<double> a(2, 2, 3.0);
    Image<double> b = a;
    b(0, 0) = 1.0;
    EXPECT_EQ(a(0, 0), 3.0);
    const double* p = b.data();
    Image<double> c = std::move(b);
    EXPECT_EQ(c.data(), p);
    auto f = c.cast<float>();
    EXPECT_EQ(f(0, 0), 1.0f);
    EXPECT_EQ(f(1, 1), 3.0f);
}

// Image::borrow (the Python binding's no-copy inputs): the caller's memory, never freed by the Image,
// and a copy of a borrowed Image owns new memory.
TEST(Image, BorrowUsesAndKeepsCallersMemory) {
    std::vector<double> mem(6, 2.0);
    {
        Image<double> b = Image<double>::borrow(mem.data(), 2, 3);
        EXPECT_EQ(b.data(), mem.data());
        EXPECT_EQ(b(1, 2), 2.0);
        Image<double> copy = b;
        EXPECT_NE(copy.data(), mem.data());
        Image<double> moved = std::move(b);
        EXPECT_EQ(moved.data(), mem.data());
    }
    EXPECT_EQ(mem[5], 2.0);  // still the caller's, after every Image above is gone
}

// core/frame_pool: a freed frame-sized block is handed to the next allocation of the same size (no new
// page faults), other sizes get fresh blocks, small buffers bypass the pool, and the cap holds.
TEST(FramePool, ReusesFrameSizedBlocksOfTheSameSizeWithinTheCap) {
    using namespace aiaccel;
    frame_pool_release();
    const FramePoolStats s0 = frame_pool_stats();
    ASSERT_GT(s0.cap_bytes, 0u) << "AIACCEL_FRAME_POOL_MIB=0 in the test environment";
    const double* first = nullptr;
    {
        Image<double> a(1024, 1100, 1.0);  // 8.6 MiB: pooled
        first = a.data();
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % kFrameAlignment, 0u);
    }
    EXPECT_EQ(frame_pool_stats().cached_bytes, s0.cached_bytes + 1024 * 1100 * sizeof(double));
    {
        Image<double> b(1100, 1024, 2.0);  // same byte size: the same block, filled anew
        EXPECT_EQ(b.data(), first);
        EXPECT_EQ(b(1099, 1023), 2.0);
        Image<double> c(1024, 1101);  // another size: a fresh block while b holds the pooled one
        EXPECT_NE(c.data(), first);
    }
    const FramePoolStats s1 = frame_pool_stats();
    EXPECT_EQ(s1.hits, s0.hits + 1);
    EXPECT_LE(s1.cached_bytes, s1.cap_bytes);
    {
        Image<float> small(100, 100, 0.0f);  // 40 KB: never pooled
    }
    EXPECT_EQ(frame_pool_stats().cached_bytes, s1.cached_bytes);
    frame_pool_release();
    EXPECT_EQ(frame_pool_stats().cached_bytes, 0u);
}
