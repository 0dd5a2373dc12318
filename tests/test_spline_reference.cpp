// scipy.ndimage spline port (reference/spline_reference): exact answers (constant images, cubic
// polynomials, identity and 90° transforms, the banded systems the prefilter solves), boundary and
// rounding rules, and values scipy itself printed (hex floats below; scipy 1.17.1 and 1.15.3 on the
// golden machine, from the deterministic arrays built here).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/error.hpp"
#include "reference/spline_reference.hpp"

using namespace aiaccel;
using namespace aiaccel::reference;

namespace {

double hexf(const char* s) { return std::strtod(s, nullptr); }

// The small test array used for the scipy values: exact binary fractions, no transcendental functions.
Image<double> small_array(std::size_t rows, std::size_t cols, double base = 0) {
    Image<double> a(rows, cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            a(r, c) =
                static_cast<double>((r * 7 + c * 3) % 11) * 1.5 + static_cast<double>((r * c) % 5) * 0.25 - static_cast<double>(c) * 0.125 + base;
    return a;
}

// Mirror (period 2n − 2) written independently of the code under test.
std::size_t mirror(long i, long n) {
    if (n == 1) return 0;
    const long p = 2 * n - 2;
    i %= p;
    if (i < 0) i += p;
    return static_cast<std::size_t>(i < n ? i : p - i);
}

// The B-spline kernel sampled at the integers: sum_k kernel[k] c[i + k − h] = f[i].
std::vector<double> bspline_samples(int order) {
    switch (order) {
        case 2: return {1 / 8., 6 / 8., 1 / 8.};
        case 3: return {1 / 6., 4 / 6., 1 / 6.};
        case 4: return {1 / 384., 76 / 384., 230 / 384., 76 / 384., 1 / 384.};
        default: return {1 / 120., 26 / 120., 66 / 120., 26 / 120., 1 / 120.};
    }
}

}  // namespace

TEST(SplineFilter, CoefficientsSolveTheMirroredBSplineSystem) {
    // For every order and several lengths (including 2 and 3, where the mirror folds more than
    // once), the prefiltered coefficients reproduce the samples through the B-spline kernel.
    for (int order = 2; order <= 5; ++order)
        for (std::size_t n : {2u, 3u, 4u, 5u, 10u, 37u}) {
            SCOPED_TRACE("order " + std::to_string(order) + " n " + std::to_string(n));
            std::vector<double> f(n), c(n);
            for (std::size_t i = 0; i < n; ++i) f[i] = c[i] = std::fmod(static_cast<double>(i) * 3.7 + 1.1, 5.3) - 2;
            spline_filter_line(c.data(), n, 1, order);
            const auto k = bspline_samples(order);
            const long h = static_cast<long>(k.size() / 2);
            for (std::size_t i = 0; i < n; ++i) {
                double s = 0;
                for (long j = 0; j < static_cast<long>(k.size()); ++j) s += k[j] * c[mirror(static_cast<long>(i) + j - h, static_cast<long>(n))];
                EXPECT_NEAR(s, f[i], 1e-13) << "sample " << i;
            }
        }
}

TEST(SplineFilter, ConstantStaysConstantAndLengthOneIsUntouched) {
    Image<double> a(9, 13, 42.5);
    for (int order = 2; order <= 5; ++order) {
        Image<double> c = spline_filter(a, order);
        for (double v : c.pixels()) EXPECT_NEAR(v, 42.5, 1e-12);
    }
    double one = 7.25;
    spline_filter_line(&one, 1, 1, 3);
    EXPECT_EQ(one, 7.25);
}

TEST(SplineFilter, MatchesScipyBitForBit) {
    const Image<double> a = small_array(6, 7);
    const char* want[4][3] = {{"-0x1.7f9438d40fd8ep+2", "-0x1.06775a98539cfp+3", "0x1.5b7493cfd31dep+4"},
                              {"-0x1.3fc5ebfcc23f3p+3", "-0x1.2032770ef18bfp+4", "0x1.0e56d33ea847ap+5"},
                              {"-0x1.dabfd60b03d27p+3", "-0x1.1c6bdebfba919p+5", "0x1.f02d0bb5d0172p+5"},
                              {"-0x1.38d4864bd99b9p+4", "-0x1.ec7fa81ca9d83p+5", "0x1.dc706c866f9c9p+6"}};
    for (int order = 2; order <= 5; ++order) {
        Image<double> c = spline_filter(a, order);
        EXPECT_EQ(c(0, 0), hexf(want[order - 2][0])) << order;
        EXPECT_EQ(c(2, 3), hexf(want[order - 2][1])) << order;
        EXPECT_EQ(c(5, 6), hexf(want[order - 2][2])) << order;
    }
    EXPECT_THROW(spline_filter(a, 1), Error);
    EXPECT_THROW(spline_filter(a, 6), Error);
}

TEST(SplineWeights, SumToOneAndInterpolateAtKnots) {
    for (int order = 1; order <= 5; ++order) {
        double w[6];
        for (double x : {0.0, 0.25, 0.5, 0.75, 3.999, 17.5}) {
            spline_weights(x, order, w);
            double s = 0;
            for (int i = 0; i <= order; ++i) s += w[i];
            EXPECT_NEAR(s, 1.0, 1e-15);
        }
    }
    double w[6];
    spline_weights(5.0, 3, w);  // a knot: weights 1/6, 2/3, 1/6, 0
    EXPECT_NEAR(w[0], 1 / 6., 1e-16);
    EXPECT_NEAR(w[1], 2 / 3., 1e-16);
    EXPECT_NEAR(w[2], 1 / 6., 1e-16);
    EXPECT_NEAR(w[3], 0.0, 1e-16);
}

TEST(AffineTransform, IdentityReturnsTheInput) {
    const Image<double> a = small_array(15, 11, 100);
    for (int order = 0; order <= 5; ++order) {
        AffineOptions o;
        o.order = order;
        Image<double> out = affine_transform(a, {{{1, 0}, {0, 1}}}, {0, 0}, o);
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (order <= 1)
                ASSERT_EQ(out.data()[i], a.data()[i]) << "order " << order;
            else
                ASSERT_NEAR(out.data()[i], a.data()[i], 1e-12) << "order " << order;
        }
    }
}

TEST(AffineTransform, ConstantImageIsReproducedAndOutsideIsCval) {
    Image<double> a(20, 17, 3.5);
    for (int order = 0; order <= 5; ++order) {
        AffineOptions o;
        o.order = order;
        o.cval = -9;
        Image<double> out = affine_transform(a, {{{0.9, 0.1}, {-0.1, 0.9}}}, {0.3, 1.7}, o);
        for (std::size_t r = 0; r < 20; ++r)
            for (std::size_t c = 0; c < 17; ++c) {
                const double y = 0.3 + 0.9 * static_cast<double>(r) + 0.1 * static_cast<double>(c);
                const double x = 1.7 - 0.1 * static_cast<double>(r) + 0.9 * static_cast<double>(c);
                const bool inside = y >= 0 && y <= 19 && x >= 0 && x <= 16;
                if (inside)
                    EXPECT_NEAR(out(r, c), 3.5, 1e-13);
                else
                    EXPECT_EQ(out(r, c), -9.0);
            }
    }
}

TEST(AffineTransform, CubicPolynomialIsReproducedAwayFromTheBorder) {
    // Cubic B-splines reproduce cubics; the mirror boundary disturbs the coefficients near the edges
    // by ~0.27^d at distance d, so sample the interior only.
    const std::size_t n = 80;
    auto f = [](double y, double x) { return 0.002 * y * y * y - 0.05 * x * x * y + 0.3 * x * x - 2 * y + 7; };
    Image<double> a(n, n);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < n; ++c) a(r, c) = f(static_cast<double>(r), static_cast<double>(c));
    AffineOptions o;
    Image<double> out = affine_transform(a, {{{1, 0}, {0, 1}}}, {0.37, -0.61}, o);
    for (std::size_t r = 30; r < 50; ++r)
        for (std::size_t c = 30; c < 50; ++c)
            EXPECT_NEAR(out(r, c), f(static_cast<double>(r) + 0.37, static_cast<double>(c) - 0.61), 1e-8) << r << "," << c;
}

TEST(AffineTransform, RotationByNinetyDegreesIsAPermutation) {
    const Image<double> a = small_array(9, 9);
    // output (o0, o1) samples input (o1, 8 − o0): matrix [[0, 1], [−1, 0]], offset (0, 8).
    for (int order : {0, 1, 3, 5}) {
        AffineOptions o;
        o.order = order;
        Image<double> out = affine_transform(a, {{{0, 1}, {-1, 0}}}, {0, 8}, o);
        for (std::size_t r = 0; r < 9; ++r)
            for (std::size_t c = 0; c < 9; ++c) {
                if (order <= 1)
                    ASSERT_EQ(out(r, c), a(c, 8 - r));
                else
                    ASSERT_NEAR(out(r, c), a(c, 8 - r), 1e-12);
            }
    }
}

TEST(AffineTransform, BoundsRuleAndMirroredTaps) {
    // Exactly 0 and n − 1 are inside, a hair beyond is cval.
    Image<double> a(1, 6);
    for (std::size_t c = 0; c < 6; ++c) a(0, c) = static_cast<double>(c * c) - 3.0 * static_cast<double>(c % 2);
    AffineOptions o;
    o.cval = -100;
    auto at = [&](const Image<double>& img, double x) { return affine_transform(img, {{{1, 0}, {0, 0}}}, {0, x}, o, 1, 1)(0, 0); };
    EXPECT_NEAR(at(a, 5.0), a(0, 5), 1e-12);
    EXPECT_NEAR(at(a, 0.0), a(0, 0), 1e-12);
    EXPECT_EQ(at(a, std::nextafter(5.0, 6.0)), -100.0);
    EXPECT_EQ(at(a, -1e-300), -100.0);
    // Near the edges the taps are mirrored (period 2n − 2). The same line written out mirrored
    // once more on each side, b = a5 … a1 a0 … a5 a4 … a0, has the same mirror extension, so
    // interpolating b at x + 5 (no mirrored taps needed there) must give a at x.
    Image<double> b(1, 16);
    for (long i = 0; i < 16; ++i) b(0, static_cast<std::size_t>(i)) = a(0, mirror(i - 5, 6));
    for (int order = 0; order <= 5; ++order) {
        o.order = order;
        for (double x : {0.0, 0.2, 0.5, 0.9, 1.4, 3.6, 4.1, 4.5, 4.75, 5.0})
            EXPECT_NEAR(at(a, x), at(b, x + 5), 1e-12) << "order " << order << " x " << x;
    }
    o.order = 3;
    // A length-1 axis: only the coordinate 0 is inside, and it gives the sample itself.
    Image<double> one(1, 1, 4.0);
    EXPECT_NEAR(affine_transform(one, {{{1, 0}, {0, 1}}}, {0, 0}, o)(0, 0), 4.0, 1e-15);
    EXPECT_EQ(affine_transform(one, {{{1, 0}, {0, 1}}}, {0, 0.5}, o)(0, 0), -100.0);
    // NaN coordinates give cval, as in scipy.
    EXPECT_EQ(affine_transform(a, {{{1, 0}, {0, 1}}}, {0, NAN}, o)(0, 2), -100.0);
}

TEST(AffineTransform, NanInTheInputPoisonsTheSplineLines) {
    // scipy has no NaN handling of its own: the IIR prefilter spreads a NaN along both axes (sunpy
    // replaces NaNs before calling it; see the register tests).
    Image<double> a = small_array(8, 8);
    a(3, 4) = NAN;
    Image<double> out = affine_transform(a, {{{1, 0}, {0, 1}}}, {0, 0}, {});
    for (std::size_t r = 0; r < 8; ++r) EXPECT_TRUE(std::isnan(out(r, 4)));
    AffineOptions o1;
    o1.order = 1;  // no prefilter; but zero-weight taps still multiply: 0 · NaN = NaN
    Image<double> lin = affine_transform(a, {{{1, 0}, {0, 1}}}, {0, 0}, o1);
    std::size_t nans = 0;
    for (double v : lin.pixels()) nans += std::isnan(v);
    EXPECT_EQ(nans, 4u);  // outputs (2|3, 3|4), whose taps (r, r+1) × (c, c+1) reach (3, 4)
    EXPECT_TRUE(std::isnan(lin(2, 3)));
}

TEST(AffineTransform, StoresLikeScipy) {
    EXPECT_EQ(store_as(1.0000000001, PixelType::f32), 1.0);
    EXPECT_EQ(store_as(2.5, PixelType::i16), 3.0);
    EXPECT_EQ(store_as(-2.5, PixelType::i16), -3.0);
    EXPECT_EQ(store_as(-2.4, PixelType::i16), -2.0);
    EXPECT_EQ(store_as(1e9, PixelType::i16), 32767.0);
    EXPECT_EQ(store_as(-1e9, PixelType::i16), -32768.0);
    EXPECT_EQ(store_as(-3.0, PixelType::u8), 0.0);
    EXPECT_EQ(store_as(254.6, PixelType::u8), 255.0);
}

TEST(AffineTransform, MatchesScipyBitForBitForEveryOrder) {
    const Image<double> a = small_array(6, 7);
    const Matrix2 m = {{{0.93, 0.21}, {-0.17, 1.04}}};
    const std::size_t pts[7][2] = {{1, 2}, {3, 3}, {2, 5}, {0, 1}, {4, 4}, {0, 6}, {5, 0}};
    const char* want[6][7] = {{"0x1.2c00000000000p+3", "0x1.0000000000000p+1", "0x0.0p+0", "0x1.5000000000000p+3", "-0x1.8000000000000p-2",
                               "0x1.d800000000000p+3", "-0x1.4000000000000p+0"},
                              {"0x1.61b645a1cac08p+3", "0x1.a77e90ff97249p+1", "0x1.d83e425aee62ap+1", "0x1.f7765fd8adab9p+2", "0x1.7d4fdf3b645a4p+0",
                               "0x1.1acd9e83e425cp+3", "-0x1.4000000000000p+0"},
                              {"0x1.ac016a7382ddbp+3", "0x1.a22a1b3a74d9ep+0", "0x1.80407170a113ep+0", "0x1.ef0aeaff0f5e1p+2", "0x1.fc08fb9184096p-2",
                               "0x1.3a2dc41bf2f29p+3", "-0x1.4000000000000p+0"},
                              {"0x1.c31de41a3a1f7p+3", "0x1.5eabecca2235cp+0", "0x1.fc9362ef18ba1p+0", "0x1.ded4e65592093p+2", "0x1.3802a65dd79bap-1",
                               "0x1.242ce6d25b9d2p+3", "-0x1.4000000000000p+0"},
                              {"0x1.d962e8428b255p+3", "0x1.03a5942fa1e39p+0", "0x1.fb45b76e48ba6p+0", "0x1.d66ed73610915p+2", "0x1.2d32474be25e5p-1",
                               "0x1.1e151ccc874e3p+3", "-0x1.4000000000000p+0"},
                              {"0x1.e563341e166efp+3", "0x1.a81a596d4d493p-1", "0x1.18aa22c2fc7a3p+1", "0x1.ce69469396e11p+2", "0x1.2feea14ac4d04p-1",
                               "0x1.16585c143fa60p+3", "-0x1.4000000000000p+0"}};
    for (int order = 0; order <= 5; ++order) {
        AffineOptions o;
        o.order = order;
        o.cval = -1.25;
        Image<double> out = affine_transform(a, m, {0.35, -0.6}, o);
        for (int k = 0; k < 7; ++k) EXPECT_EQ(out(pts[k][0], pts[k][1]), hexf(want[order][k])) << "order " << order << " point " << k;
    }
    // float32 input: same arithmetic, output rounded to float32.
    AffineOptions o;
    o.cval = -1.25;
    o.output = PixelType::f32;
    Image<double> a32 = a.cast<float>().cast<double>();
    Image<double> out = affine_transform(a32, m, {0.35, -0.6}, o);
    const char* want32[7] = {"0x1.c31de40000000p+3", "0x1.5eabec0000000p+0", "0x1.fc93620000000p+0", "0x1.ded4e60000000p+2",
                             "0x1.3802a60000000p-1", "0x1.242ce60000000p+3", "-0x1.4000000000000p+0"};
    for (int k = 0; k < 7; ++k) EXPECT_EQ(out(pts[k][0], pts[k][1]), hexf(want32[k])) << "float32 point " << k;
}

TEST(AffineTransform, CoordinateSummationOrderOfScipy115And116) {
    // The lowres 1600 Å register matrix and a shifted offset on a 24×24 array: scipy 1.15.3 and
    // 1.17.1 disagree in the last bits at 80 of 576 pixels; each order reproduces its scipy.
    const Image<double> a = small_array(24, 24, 1000);
    const Matrix2 m = {
        {{hexf("0x1.f81fec6dceafdp-1"), hexf("0x1.64e0d95b8d3e3p-12")}, {hexf("-0x1.64e0d95b8d3e3p-12"), hexf("0x1.f81fec6dceafbp-1")}}};
    const std::array<double, 2> off = {hexf("0x1.4ea4f852424c0p+0"), hexf("0x1.dba200c0e2480p-1")};
    struct Want {
        std::size_t r, c;
        const char* v115;
        const char* v116;
    };
    const Want want[] = {{1, 4, "0x1.f7e24336ba8b8p+9", "0x1.f7e24336ba8bap+9"},
                         {1, 7, "0x1.f544a682605bbp+9", "0x1.f544a682605bcp+9"},
                         {1, 16, "0x1.fadb790070980p+9", "0x1.fadb790070981p+9"},
                         {1, 20, "0x1.f619765e3cfdbp+9", "0x1.f619765e3cfdap+9"}};
    AffineOptions o;
    o.cval = -1.25;
    o.coordinate_sum = CoordinateSum::scipy_le_1_15;
    Image<double> old_order = affine_transform(a, m, off, o);
    o.coordinate_sum = CoordinateSum::scipy_ge_1_16;
    Image<double> new_order = affine_transform(a, m, off, o);
    for (const Want& w : want) {
        EXPECT_EQ(old_order(w.r, w.c), hexf(w.v115));
        EXPECT_EQ(new_order(w.r, w.c), hexf(w.v116));
    }
    EXPECT_EQ(coordinate_sum_for_scipy_minor(15), CoordinateSum::scipy_le_1_15);
    EXPECT_EQ(coordinate_sum_for_scipy_minor(17), CoordinateSum::scipy_ge_1_16);
}
