// core/rice_check: a RICE_1 tile's bit stream is walked with bounds checks before CFITSIO decodes it.
// Streams come from CFITSIO's own Rice encoder (fits_rcomp*), then are cut or crafted.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/rice_check.hpp"

extern "C" {
int fits_rcomp(int a[], int nx, unsigned char* c, int clen, int nblock);
int fits_rcomp_short(short a[], int nx, unsigned char* c, int clen, int nblock);
int fits_rcomp_byte(signed char a[], int nx, unsigned char* c, int clen, int nblock);
}

namespace {

using aiaccel::check_rice_tile;

// A smooth ramp with noise and a few outliers: every block type (zero, Rice, raw) occurs.
std::vector<int> test_pixels(int n, int amplitude) {
    std::mt19937 rng(7);
    std::vector<int> a(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        if (i < 64)
            a[i] = 5;  // all-zero differences
        else if (i % 97 == 0)
            a[i] = static_cast<int>(rng() % amplitude);  // outliers
        else
            a[i] = i / 3 + static_cast<int>(rng() % 7);
    }
    for (int i = 200; i < 232 && i < n; ++i) a[i] = static_cast<int>(rng() % amplitude);  // a raw block
    return a;
}

std::vector<std::uint8_t> encode(int bytepix, int n, int blocksize) {
    auto a = test_pixels(n, bytepix == 1 ? 127 : bytepix == 2 ? 30000 : 1 << 30);
    std::vector<std::uint8_t> c(static_cast<std::size_t>(n) * 5 + 64);
    int len = 0;
    if (bytepix == 4) len = fits_rcomp(a.data(), n, c.data(), static_cast<int>(c.size()), blocksize);
    if (bytepix == 2) {
        std::vector<short> s(a.begin(), a.end());
        len = fits_rcomp_short(s.data(), n, c.data(), static_cast<int>(c.size()), blocksize);
    }
    if (bytepix == 1) {
        std::vector<signed char> s(a.begin(), a.end());
        len = fits_rcomp_byte(s.data(), n, c.data(), static_cast<int>(c.size()), blocksize);
    }
    EXPECT_GT(len, 0);
    c.resize(static_cast<std::size_t>(len));
    return c;
}

TEST(RiceCheck, StreamsFromCfitsioEncoderPass) {
    for (int bytepix : {1, 2, 4})
        for (int blocksize : {16, 32})
            for (int n : {1, 31, 32, 33, 1000, 4096}) {
                auto c = encode(bytepix, n, blocksize);
                auto why = check_rice_tile(c, static_cast<std::size_t>(n), bytepix, blocksize);
                EXPECT_FALSE(why) << "bytepix " << bytepix << " blocksize " << blocksize << " n " << n << ": " << *why;
            }
}

TEST(RiceCheck, TruncatedStreamsAreRefused) {
    for (int bytepix : {1, 2, 4}) {
        auto c = encode(bytepix, 4096, 32);
        for (std::size_t keep : {std::size_t{0}, std::size_t{1}, std::size_t(bytepix), c.size() / 2, c.size() - 8}) {
            std::vector<std::uint8_t> cut(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(keep));
            EXPECT_TRUE(check_rice_tile(cut, 4096, bytepix, 32)) << "bytepix " << bytepix << " kept " << keep;
        }
    }
}

TEST(RiceCheck, MoreClaimedPixelsThanCodedAreRefused) {
    auto c = encode(2, 1000, 32);
    EXPECT_TRUE(check_rice_tile(c, 100000, 2, 32));
}

TEST(RiceCheck, ZeroRunPastTheEndIsRefused) {
    // The libFuzzer find: a Rice block whose unary code is a run of zero bytes to the end of the tile
    // (CFITSIO's decoder scans on past the buffer).
    std::vector<std::uint8_t> c = {0x12, 0x34, 0x13, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_TRUE(check_rice_tile(c, 64, 2, 32));
}

TEST(RiceCheck, SplitLevelAboveMaximumIsRefused) {
    // bytepix 4: 5-bit FS code 31 → split level 30 > FSMAX 25.
    std::vector<std::uint8_t> c = {0, 0, 0, 1, 0xF8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    auto why = check_rice_tile(c, 4, 4, 32);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("split level"), std::string::npos) << *why;
}

TEST(RiceCheck, BadParametersAreRefused) {
    std::vector<std::uint8_t> c = {0, 0, 0};
    EXPECT_TRUE(check_rice_tile(c, 1, 3, 32));
    EXPECT_TRUE(check_rice_tile(c, 1, 2, 0));
}

}  // namespace
