// FitsHeader: parsing card values the way FITS (and astropy) defines them; formatting on set.
#include <gtest/gtest.h>

#include <cmath>

#include "core/fits_header.hpp"

using aiaccel::FitsHeader;

TEST(FitsHeader, ParsesNumbersStringsAndCommentary) {
    FitsHeader h;
    h.add_raw("CDELT1  =             0.599489 / [arcsec/pixel] image scale in the x-direction");
    h.add_raw("WAVELNTH=                  171 / [angstrom] wavelength");
    h.add_raw("DATE-OBS= '2013-03-10T12:00:11.341' / [UTC] ");
    h.add_raw("ORIGIN  = 'it''s quoted'");
    h.add_raw("EXPD    =              1.5D+01");
    h.add_raw("HISTORY something = not a value");
    h.add_raw("FLAG    =                    T");
    EXPECT_DOUBLE_EQ(*h.get_double("CDELT1"), 0.599489);
    EXPECT_EQ(*h.get_double("wavelnth"), 171.0);
    EXPECT_EQ(*h.get_string("DATE-OBS"), "2013-03-10T12:00:11.341");
    EXPECT_EQ(*h.get_string("ORIGIN"), "it's quoted");
    EXPECT_EQ(*h.get_double("EXPD"), 15.0);
    EXPECT_FALSE(h.get_double("HISTORY"));
    EXPECT_FALSE(h.get_double("DATE-OBS"));
    EXPECT_FALSE(h.get_double("FLAG"));
    EXPECT_FALSE(h.has("MISSING"));
}

// JSOC's synoptic level-1.5 files carry bare `nan` values; astropy refuses them in a plain HDU and
// fixes them to strings: the writer writes them as astropy's fix does, and leaves every FITS value alone.
TEST(FitsHeader, StandardCardTurnsValuesFitsDoesNotAllowIntoStrings) {
    using aiaccel::FitsCard;
    using aiaccel::standard_card;
    EXPECT_EQ(standard_card({"OSCNMEAN", "OSCNMEAN= nan"}), "OSCNMEAN= 'nan     '");
    EXPECT_EQ(standard_card({"RSUN_LF", "RSUN_LF =                  nan / [pixel] limb fit radius"}),
              "RSUN_LF = 'nan     ' / [pixel] limb fit radius");
    EXPECT_EQ(standard_card({"X", "X       = Infinity"}), "X       = 'Infinity'");
    for (const char* ok : {"CDELT1  =             0.599489 / [arcsec/pixel]", "NAXIS   =                    2", "EXPD    =              1.5D+01",
                           "A       =               -1.E-3", "B       =                  .5e7", "FLAG    =                    T",
                           "DATE-OBS= '2013-03-10T12:00:11.341' / [UTC]", "UNDEF   =", "UNDEF2  =                      / no value",
                           "C       = (1.0, -2)", "HISTORY nan = not a value", "COMMENT x"})
        EXPECT_EQ(standard_card({"", ok}), ok) << ok;
    for (const char* bad : {"A       = 1.5E", "A       = 1.2.3", "A       = +", "A       = 12abc", "A       = NaN"})
        EXPECT_NE(standard_card({"A", bad}), bad) << bad;
}

TEST(FitsHeader, SetKeepsPositionAndCommentAndRoundTrips) {
    FitsHeader h;
    h.add_raw("CRPIX1  =              2048.5 / [pixel] reference pixel");
    h.add_raw("CRPIX2  =              2048.5");
    h.set_double("CRPIX1", 2049.123456789012345);
    EXPECT_EQ(h.cards().front().key, "CRPIX1");
    EXPECT_NE(h.cards().front().raw.find("reference pixel"), std::string::npos);
    EXPECT_EQ(*h.get_double("CRPIX1"), 2049.123456789012345);  // bit-exact round trip
    h.set_string("BUNIT", "DN / s", "unit");
    EXPECT_EQ(*h.get_string("BUNIT"), "DN / s");
    h.set_int("LVL_NUM", 2);
    EXPECT_EQ(*h.get_double("LVL_NUM"), 2.0);
    EXPECT_EQ(FitsHeader::format_real(1.0), "1.0");
    EXPECT_EQ(FitsHeader::format_real(1e-20), "1E-20");
    EXPECT_THROW(h.set_double("X", std::nan("")), std::invalid_argument);
    h.erase("CRPIX2");
    EXPECT_FALSE(h.has("CRPIX2"));
}

TEST(FitsHeader, StructuralKeywordsAreRecognised) {
    for (const char* k : {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "ZBITPIX", "ZNAXIS2", "ZTILE1", "ZCMPTYPE", "ZNAME1", "ZVAL1", "TTYPE1", "TFORM1",
                          "CHECKSUM", "DATASUM", "BLANK", "BSCALE"})
        EXPECT_TRUE(aiaccel::is_structural_keyword(k)) << k;
    for (const char* k : {"CRPIX1", "WAVELNTH", "HISTORY", "ZZZ_NOT"}) EXPECT_FALSE(aiaccel::is_structural_keyword(k)) << k;
}
