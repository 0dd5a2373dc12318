// Image<T> / ImageView<T>: layout, alignment, views, copies.
#include <gtest/gtest.h>

#include <cstdint>

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
