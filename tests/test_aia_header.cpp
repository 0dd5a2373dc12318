// AiaHeader: typed access, rotation matrix as sunpy builds it, Sun centre, channel checks.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;

TEST(AiaHeader, RotationFromCrota2MatchesSunpyFormula) {
    FitsHeader h;
    h.add_raw("CDELT1  = 0.6");
    h.add_raw("CDELT2  = 0.6");
    h.add_raw("CROTA2  = 30.0");
    AiaHeader a(h, "x.fits");
    auto m = a.rotation_matrix();
    const double p = 30.0 * std::numbers::pi / 180.0;
    EXPECT_DOUBLE_EQ(m[0][0], std::cos(p));
    EXPECT_DOUBLE_EQ(m[0][1], -std::sin(p));
    EXPECT_DOUBLE_EQ(m[1][0], std::sin(p));
    EXPECT_NEAR(a.rotation_deg(), 30.0, 1e-12);
    h.add_raw("PC1_1   = 0.0");
    h.add_raw("PC1_2   = -1.0");
    h.add_raw("PC2_1   = 1.0");
    h.add_raw("PC2_2   = 0.0");
    EXPECT_NEAR(a.rotation_deg(), 90.0, 1e-12);  // PCi_j wins over CROTA2
}

// sunpy's rule beyond PCi_j: CDi_j divided row-wise by CDELTi, and CROTA2's entries in numpy's order
// (−1·lam·sin p and (1/lam)·sin p) when CDELT2 ≠ CDELT1.
TEST(AiaHeader, RotationFromCdAndUnequalScalesAsSunpy) {
    FitsHeader h;
    h.add_raw("CDELT1  = 0.6");
    h.add_raw("CDELT2  = 0.7");
    h.add_raw("CROTA2  = 30.0");
    AiaHeader a(h, "x.fits");
    const double lam = 0.7 / 0.6, p = 30.0 * (std::numbers::pi / 180.0);
    auto m = a.rotation_matrix();
    EXPECT_EQ(m[0][1], (-1 * lam) * std::sin(p));
    EXPECT_EQ(m[1][0], (1 / lam) * std::sin(p));
    h.add_raw("CD1_1   = 0.3");
    h.add_raw("CD2_1   = 0.2");
    m = a.rotation_matrix();  // CDi_j wins over CROTA2; absent ones are 0
    EXPECT_EQ(m[0][0], 0.3 / 0.6);
    EXPECT_EQ(m[0][1], 0.0);
    EXPECT_EQ(m[1][0], 0.2 / 0.7);
    EXPECT_EQ(m[1][1], 0.0);
}

// The observer distance and R☉ as sunpy's AIAMap takes them (HAE position first; RSUN_REF first).
TEST(AiaHeader, ObserverDistanceAndSolarRadius) {
    FitsHeader h;
    AiaHeader a(h, "x.fits");
    EXPECT_THROW(a.observer_distance_m(), Error);
    h.add_raw("DSUN_OBS= 1.5E11");
    EXPECT_THROW(a.observer_distance_m(), Error);  // a distance without the observer's longitude/latitude
    h.add_raw("HGLN_OBS= 0.0");
    h.add_raw("HGLT_OBS= 1.0");
    EXPECT_EQ(a.observer_distance_m(), 1.5e11);
    h.add_raw("HAEX_OBS= 3.0");
    h.add_raw("HAEY_OBS= 4.0");
    h.add_raw("HAEZ_OBS= 12.0");
    EXPECT_EQ(a.observer_distance_m(), 13.0);
    EXPECT_EQ(a.rsun_meters(1.5e11), 695700000.0);
    h.add_raw("RSUN_OBS= 960.0");
    EXPECT_EQ(a.rsun_meters(1.5e11), std::sin(960.0 / 3600.0 * (std::numbers::pi / 180.0)) * 1.5e11);
    h.add_raw("RSUN_REF= 696000000.0");
    EXPECT_EQ(a.rsun_meters(1.5e11), 696000000.0);
}

TEST(AiaHeader, RealFileKeywords) {
    AiaImage img = load_aia(test::real_file("aia_171_cutout.fits").string());
    AiaHeader h = img.aia();
    EXPECT_EQ(h.channel().wavelength, 171);
    EXPECT_TRUE(h.channel().has_psf());
    EXPECT_EQ(h.date_obs(), "2013-03-10T12:00:11.341");
    EXPECT_NEAR(h.cdelt1(), 0.599489, 1e-6);
    EXPECT_DOUBLE_EQ(h.exptime(), 1.999605);
    EXPECT_EQ(*h.level(), 1.0);
    EXPECT_EQ(h.pointing_keys_present(), "X0_MP Y0_MP IMSCL_MP INST_ROT SAT_ROT");
    auto c = h.sun_centre_px();  // CRVAL = 0, so the Sun sits at CRPIX (1-based)
    EXPECT_NEAR(c[0], h.crpix1() - 1, 1e-9);
    EXPECT_NEAR(c[1], h.crpix2() - 1, 1e-9);
    EXPECT_NEAR(h.sun_radius_px(), h.rsun_obs() / h.cdelt1(), 1e-9);
}

TEST(AiaHeader, MissingKeywordNamesFileAndKeyword) {
    FitsHeader h;
    AiaHeader a(h, "some/file.fits");
    try {
        (void)a.exptime();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::missing_keyword);
        EXPECT_STREQ(e.what(), "some/file.fits: missing keyword EXPTIME");
    }
}

TEST(Channels, TableAndLookup) {
    EXPECT_EQ(all_channels().size(), 10u);
    EXPECT_TRUE(find_channel(335));
    EXPECT_FALSE(find_channel(335)->kind != ChannelKind::euv);
    EXPECT_FALSE(find_channel(1600)->has_psf());
    EXPECT_FALSE(find_channel(170));
    EXPECT_EQ(euv_channels_text(), "94, 131, 171, 193, 211, 304, 335");
}
