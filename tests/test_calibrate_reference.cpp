// Tests of the reference calibration port (reference/calibrate_reference.hpp, reference/aia_time.hpp):
//  1. exact answers on synthetic input (hand-computed degradation factor, leap-second crossing,
//     exposure of a constant image, pointing update of a small header);
//  2. errors a user can act on (no table row for the time, malformed tables, missing EXPTIME);
//  3. goldens from the real aiapy 0.10.2 and 0.12.1 (testdata/golden/aiapy-<v>/items/*.json, made by
//     tools/oracle/golden_aiapy.py): header keys exact, factors within 2 ε64, data bit for bit.
//     A version whose goldens are not present is SKIPPED, not passed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "reference/aia_time.hpp"
#include "reference/calibrate_reference.hpp"
#include "tests/golden_support.hpp"
#include "tests/test_support.hpp"
#include "validate/golden_calibrate.hpp"
#include "validate/verdict.hpp"

using namespace aiaccel;
using namespace aiaccel::reference;
using nlohmann::json;

namespace {

UtcTime utc(const std::string& s, TimeParser p = TimeParser::astropy) { return parse_utc(s, p, "test"); }

std::filesystem::path write_text(const test::ScratchDir& dir, const std::string& name, const std::string& text) {
    const auto p = dir / name;
    std::ofstream(p) << text;
    return p;
}

template <class F>
Error expect_error(F&& f, ErrorKind kind) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
        return e;
    }
    ADD_FAILURE() << "no aiaccel::Error thrown";
    return Error(ErrorKind::internal, "none");
}

// A small AIA-like image with the given header cards (key → value text as in a FITS card).
AiaImage small_image(std::size_t rows, std::size_t cols, double fill, PixelType dtype,
                     const std::vector<std::pair<std::string, std::string>>& cards) {
    AiaImage img;
    img.path = "synthetic.fits";
    img.dtype = dtype;
    img.data = Image<double>(rows, cols, fill);
    for (const auto& [k, v] : cards) {
        if (!v.empty() && v.front() == '\'')
            img.header.set_string(k, v.substr(1, v.size() - 2));
        else
            img.header.set_double(k, std::strtod(v.c_str(), nullptr));
    }
    return img;
}

const char* kResponseHeader = "DATE T_START T_STOP VER_NUM WAVE_STR WAVELNTH EPERDN DNPERPHT EFF_AREA EFF_WVLN EFFA_P1 EFFA_P2 EFFA_P3 RMSE\n";

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Exact answers

TEST(AiaTime, LeapSecondTableAndDayLength) {
    EXPECT_EQ(tai_minus_utc(2012, 6, 30), 34.0);
    EXPECT_EQ(tai_minus_utc(2012, 7, 1), 35.0);
    EXPECT_EQ(tai_minus_utc(2016, 12, 31), 36.0);
    EXPECT_EQ(tai_minus_utc(2017, 1, 1), 37.0);
    EXPECT_EQ(tai_minus_utc(2030, 1, 1), 37.0);
    // UTC "quasi-JD": 2016-12-31 has 86401 s, so 23:59:60 is a valid instant and noon is not jd2 = 0.
    const UtcTime leap = utc("2016-12-31T23:59:60.5");
    const UtcTime next = utc("2017-01-01T00:00:00");
    EXPECT_LT(compare(leap, next), 0);
    EXPECT_NEAR(tai_days_between(next, leap) * 86400.0, 0.5, 1e-9);
}

TEST(AiaTime, DifferencesCountLeapSecondsOnlyWhereTheyAre) {
    // Across the leap second at the end of 2016: 1 s + 1 leap s + 0.5 s.
    EXPECT_NEAR(tai_days_between(utc("2017-01-01T00:00:00.5"), utc("2016-12-31T23:59:59")) * 86400.0, 2.5, 1e-9);
    // Across a midnight without one.
    EXPECT_NEAR(tai_days_between(utc("2016-07-01T00:00:00.5"), utc("2016-06-30T23:59:59")) * 86400.0, 1.5, 1e-9);
    // Whole days between midnights are exact in the two-double representation.
    EXPECT_EQ(tai_days_between(utc("2015-01-11T00:00:00"), utc("2015-01-01T00:00:00.000")), 10.0);
    EXPECT_EQ(tai_days_between(utc("2015-01-01T00:00:00"), utc("2015-01-11T00:00:00")), -10.0);
    // ... and across one, a day is 86401 s of TAI.
    EXPECT_EQ(tai_days_between(utc("2017-01-01T00:00:00"), utc("2016-12-31T00:00:00")), 1.0 + 1.0 / 86400.0);
}

TEST(AiaTime, ParsersAndFormats) {
    // T and space separators, trailing Z, dates without a time: all the same instant.
    const UtcTime a = utc("2012-06-06T04:07:30");
    EXPECT_EQ(compare(a, utc("2012-06-06 04:07:30")), 0);
    EXPECT_EQ(compare(a, utc("2012-06-06T04:07:30Z")), 0);
    EXPECT_EQ(compare(a, utc("2012-06-06T04:07:30.000000", TimeParser::sunpy)), 0);
    EXPECT_EQ(compare(utc("2012-06-06"), utc("2012-06-06T00:00")), 0);
    // Order within a second.
    EXPECT_LT(compare(utc("2012-06-06T04:07:30.57Z"), utc("2012-06-06T04:07:30.571")), 0);
    // sunpy cuts a long fraction to 6 digits when the 7th is '0' (later digits dropped), otherwise it
    // hands the whole string to astropy (checked against sunpy 7.0.5 / astropy 7.2.3).
    const auto same = [](const UtcTime& x, const UtcTime& y) { return x.jd.jd1 == y.jd.jd1 && x.jd.jd2 == y.jd.jd2; };
    EXPECT_TRUE(same(utc("2010-03-27T22:36:31.566125009Z", TimeParser::sunpy), utc("2010-03-27T22:36:31.566125")));
    EXPECT_FALSE(same(utc("2010-03-27T22:36:31.566125009Z", TimeParser::sunpy), utc("2010-03-27T22:36:31.566125009Z")));
    EXPECT_TRUE(same(utc("2010-03-27T22:36:31.5661251", TimeParser::sunpy), utc("2010-03-27T22:36:31.5661251")));
    // Refusals: TAI strings, malformed text, impossible dates, dates before leap seconds.
    expect_error([] { utc("2012.06.06_04:07:30_TAI"); }, ErrorKind::bad_value);
    expect_error([] { utc("2012-6-6T04:07:30"); }, ErrorKind::bad_value);
    expect_error([] { utc("2013-02-29T00:00:00"); }, ErrorKind::bad_value);
    expect_error([] { utc("2012-06-06T04:07:60"); }, ErrorKind::bad_value);
    expect_error([] { utc("1971-12-31T00:00:00"); }, ErrorKind::bad_value);
}

TEST(AiaTime, DayFracNormalises) {
    const JdPair p = time_detail::day_frac(2456084.5, 0.17);
    EXPECT_EQ(p.jd1, 2456085.0);
    EXPECT_EQ(p.jd1 + p.jd2, 2456084.5 + 0.17);
    EXPECT_LE(std::fabs(p.jd2), 0.5);
    const JdPair q = time_detail::day_frac(p.jd1, p.jd2, 1.0);
    EXPECT_EQ(q.jd1, p.jd1);
    EXPECT_EQ(q.jd2, p.jd2);
}

TEST(Degradation, HandComputedFactorForSyntheticRows) {
    test::ScratchDir dir;
    const auto path =
        write_text(dir, "resp.txt",
                   std::string(kResponseHeader) +
                       "2020-10-26T00:14:21.733 2010-03-24T00:00:00.000 2015-01-01T00:00:00.000 10 171_THIN 171 1 1 2.0 171 0.5 0.5 0.5 0\n"
                       "2020-10-26T00:14:21.733 2015-01-01T00:00:00.000 2030-01-01T00:00:00.000 10 171_THIN 171 1 1 1.5 171 0.001 1e-06 2e-09 0\n"
                       "2020-10-26T00:14:21.733 2015-01-01T00:00:00.000 2030-01-01T00:00:00.000 9 171_THIN 171 1 1 9.0 171 0.1 0 0 0\n");
    const ResponseTable t = read_response_table(path.string());
    ASSERT_EQ(t.rows.size(), 3u);
    // 0.12.1 keeps VER_NUM 10 only: first = row 0, epoch = row 1, dt = 10 days exactly.
    const DegradationTerms d = degradation_terms(171, utc("2015-01-11T00:00:00"), t, {AiapyVersion::v0_12_1, 10});
    EXPECT_EQ(d.first_row, 0u);
    EXPECT_EQ(d.epoch_row, 1u);
    EXPECT_EQ(d.dt_days, 10.0);
    EXPECT_EQ(d.ratio, 1.5 / 2.0);
    EXPECT_EQ(d.poly, ((0.001 * 10.0 + 1e-06 * 100.0) + 2e-09 * 1000.0) + 1.0);
    EXPECT_EQ(d.factor, (((0.001 * 10.0 + 1e-06 * 100.0) + 2e-09 * 1000.0) + 1.0) * 0.75);
    // 0.10.2 does not filter VER_NUM: the last valid row (VER_NUM 9, same DATE, file order kept by the
    // stable small sort) wins.
    const DegradationTerms d010 = degradation_terms(171, utc("2015-01-11T00:00:00"), t, {AiapyVersion::v0_10_2});
    EXPECT_EQ(d010.epoch_row, 2u);
    EXPECT_EQ(d010.factor, (((0.1 * 10.0 + 0.0 * 100.0) + 0.0 * 1000.0) + 1.0) * (9.0 / 2.0));
    // Across the 2016 leap second, dt counts it: P1 · 2.5 s.
    const auto leap =
        write_text(dir, "leap.txt",
                   std::string(kResponseHeader) +
                       "2020-10-26T00:14:21.733 2016-12-31T23:59:59.000 2030-01-01T00:00:00.000 10 94_THIN 94 1 1 1.0 94 86400 0 0 0\n");
    const DegradationTerms dl = degradation_terms(94, utc("2017-01-01T00:00:00.5"), read_response_table(leap.string()), {AiapyVersion::v0_12_1, 10});
    EXPECT_NEAR(dl.factor, 3.5, 1e-9);
}

TEST(Degradation, CorrectDegradationDividesAsSunpy) {
    test::ScratchDir dir;
    const auto path =
        write_text(dir, "resp.txt",
                   std::string(kResponseHeader) +
                       "2020-10-26T00:14:21.733 2010-03-24T00:00:00.000 2030-01-01T00:00:00.000 10 171_THIN 171 1 1 2.0 171 0.001 0 0 0\n");
    AiaImage img = small_image(3, 4, 100.5, PixelType::f32, {{"WAVELNTH", "171"}, {"DATE-OBS", "'2010-03-25T00:00:00.00'"}, {"PIXLUNIT", "'DN'"}});
    const double d = correct_degradation(img, read_response_table(path.string()), {AiapyVersion::v0_12_1, 10});
    EXPECT_EQ(d, 0.001 * 1.0 + 0.0 + 0.0 + 1.0);
    EXPECT_EQ(img.data(2, 3), 100.5 * (1.0 / d));
    EXPECT_EQ(img.dtype, PixelType::f64);
    EXPECT_EQ(img.header.get_string("BUNIT").value_or("?"), "DN");
}

TEST(Exposure, ConstantImage) {
    AiaImage img = small_image(4, 3, 7.0, PixelType::f32, {{"EXPTIME", "2.0"}, {"PIXLUNIT", "'DN'"}});
    normalize_exposure(img);
    for (double v : img.data.pixels()) EXPECT_EQ(v, 3.5);
    EXPECT_EQ(img.dtype, PixelType::f64);
    EXPECT_EQ(img.header.get_string("BUNIT").value_or("?"), "DN / s");
    // No unit → dimensionless data, "1 / s"; XPOSURE wins over EXPTIME when non-zero.
    AiaImage x = small_image(1, 1, 3.0, PixelType::f64, {{"EXPTIME", "2.0"}, {"XPOSURE", "3.0"}});
    normalize_exposure(x);
    EXPECT_EQ(x.data(0, 0), 3.0 * (1.0 / 3.0));
    EXPECT_EQ(x.header.get_string("BUNIT").value_or("?"), "1 / s");
}

TEST(UpdatePointing, SyntheticCutoutBothVersions) {
    test::ScratchDir dir;
    const auto table_path = write_text(dir, "mpt.csv",
                                       "T_START,T_STOP,A_171_X0,A_171_Y0,A_171_IMSCALE,A_171_INSTROT\n"
                                       "2012-06-06T00:00:00Z,2012-06-06T03:00:00Z,2050.0,2040.0,0.6,0.1\n"
                                       "2012-06-06T03:00:00Z,2012-06-06T06:00:00Z,2051.25,2041.5,0.599,\n");
    const PointingTable t = read_pointing_table(table_path.string());
    const auto make = [] {
        return small_image(10, 20, 1.0, PixelType::f32,
                           {{"WAVELNTH", "171"},
                            {"T_OBS", "'2012-06-06T03:00:00.00Z'"},
                            {"CRPIX1", "-100.5"},
                            {"CRPIX2", "20.25"},
                            {"CDELT1", "0.6"},
                            {"CDELT2", "0.6"},
                            {"X0_MP", "2050.0"},
                            {"Y0_MP", "2040.0"},
                            {"SAT_ROT", "0.002"},
                            {"CROTA2", "0.5"},
                            {"PC1_1", "1.0"}});
    };
    AiaImage img = make();
    const PointingUpdate u = update_pointing(img, t, AiapyVersion::v0_12_1);
    EXPECT_EQ(u.row, 1u);  // T_START <= T_OBS: the boundary belongs to the later window
    EXPECT_EQ(img.header.get_double("CRPIX1").value(), ((-100.5 - 1) + 1) + (2051.25 - 2050.0));
    EXPECT_EQ(img.header.get_double("CRPIX2").value(), ((20.25 - 1) + 1) + (2041.5 - 2040.0));
    EXPECT_EQ(img.header.get_double("CDELT1").value(), 0.599);
    EXPECT_EQ(img.header.get_double("X0_MP").value(), 2051.25);
    EXPECT_EQ(img.header.get_double("CROTA2").value(), 0.5);  // INSTROT missing → kept, with a warning
    EXPECT_FALSE(img.header.has("PC1_1"));
    ASSERT_EQ(u.warnings.size(), 1u);
    EXPECT_NE(u.warnings[0].find("crota2"), std::string::npos);
    // 0.10.2 refuses cut-outs.
    AiaImage old = make();
    const Error e = expect_error([&] { update_pointing(old, t, AiapyVersion::v0_10_2); }, ErrorKind::bad_value);
    EXPECT_NE(std::string(e.what()).find("synthetic.fits"), std::string::npos);
    // ... and full frames without the full disk (the check is passed in; here it says "no").
    AiaImage full = small_image(4096, 4096, 0.0, PixelType::f32, {{"WAVELNTH", "171"}, {"T_OBS", "'2012-06-06T03:00:00.00Z'"}, {"SAT_ROT", "0"}});
    expect_error([&] { update_pointing(full, t, AiapyVersion::v0_10_2, [](const AiaImage&) { return false; }); }, ErrorKind::bad_value);
    const PointingUpdate f = update_pointing(full, t, AiapyVersion::v0_10_2, [](const AiaImage&) { return true; });
    EXPECT_EQ(full.header.get_double("CRPIX1").value(), 2051.25 + 1);
    EXPECT_EQ(full.header.get_double("Y0_MP").value(), 2041.5);
    EXPECT_EQ(f.warnings.size(), 1u);
}

TEST(TableSort, NumpyQuicksortOrderOfEqualDates) {
    // aiapy 0.10.2 sorts the channel's rows by DATE with numpy's (unstable) quicksort. Expected
    // permutations measured with numpy 2.4.6: np.argsort(np.array([...])).
    test::ScratchDir dir;
    std::string text = kResponseHeader;
    for (int i = 0; i < 20; ++i)
        text +=
            "2020-10-26T00:14:21.733 2010-03-24T00:00:00.000 2030-01-01T00:00:00.000 10 171_THIN 171 1 1 " + std::to_string(i + 1) + " 171 0 0 0 0\n";
    const ResponseTable t = read_response_table(write_text(dir, "eq.txt", text).string());
    // Row order after the sort: [0, 17, 16, …, 1, 18, 19]; first = 0, last valid = 19.
    const DegradationTerms d = degradation_terms(171, utc("2012-01-01T00:00:00"), t, {AiapyVersion::v0_10_2});
    EXPECT_EQ(d.first_row, 0u);
    EXPECT_EQ(d.epoch_row, 19u);
    // A pattern where the result is not the file order: keys 'a'/'b' — measured permutation.
    std::string text2 = kResponseHeader;
    const std::vector<int> want = {0,  36, 33, 30, 27, 24, 21, 18, 15, 12, 39, 9,  3, 6,  11, 37, 1,  35, 34, 2,
                                   32, 31, 29, 28, 4,  26, 25, 5,  23, 22, 20, 38, 7, 17, 16, 8,  14, 13, 10, 19};
    for (int i = 0; i < 40; ++i)
        text2 += std::string((i * 7) % 3 ? "b" : "a") + " 2010-03-24T00:00:00.000 2030-01-01T00:00:00.000 10 171_THIN 171 1 1 " +
            std::to_string(i + 1) + " 171 0 0 0 0\n";
    const ResponseTable t2 = read_response_table(write_text(dir, "ab.txt", text2).string());
    const DegradationTerms d2 = degradation_terms(171, utc("2012-01-01T00:00:00"), t2, {AiapyVersion::v0_10_2});
    EXPECT_EQ(d2.first_row, static_cast<std::size_t>(want.front()));
    EXPECT_EQ(d2.epoch_row, static_cast<std::size_t>(want.back()));
    EXPECT_EQ(d2.ratio, (want.back() + 1.0) / (want.front() + 1.0));
}

// ---------------------------------------------------------------------------------------------
// 2. Errors

TEST(CalibrateErrors, NoPointingRowForTheTime) {
    test::ScratchDir dir;
    const auto p = write_text(dir, "mpt.csv",
                              "T_START,T_STOP,A_171_X0,A_171_Y0,A_171_IMSCALE,A_171_INSTROT\n"
                              "2012-06-06T00:00:00Z,2012-06-06T03:00:00Z,2050.0,2040.0,0.6,0.1\n");
    AiaImage img = small_image(2, 2, 0, PixelType::f32,
                               {{"WAVELNTH", "171"},
                                {"T_OBS", "'2012-06-06T03:00:00Z'"},
                                {"SAT_ROT", "0"},
                                {"CDELT1", "0.6"},
                                {"CDELT2", "0.6"},
                                {"CRPIX1", "1"},
                                {"CRPIX2", "1"}});
    const Error e = expect_error([&] { update_pointing(img, read_pointing_table(p.string()), AiapyVersion::v0_12_1); }, ErrorKind::bad_value);
    EXPECT_NE(std::string(e.what()).find("mpt.csv"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("2012-06-06T03:00:00Z"), std::string::npos);
    // A channel the table has no columns for.
    AiaImage img193 = img;
    img193.header.set_double("WAVELNTH", 193);
    img193.header.set_string("T_OBS", "2012-06-06T01:00:00Z");
    expect_error([&] { update_pointing(img193, read_pointing_table(p.string()), AiapyVersion::v0_12_1); }, ErrorKind::bad_value);
}

TEST(CalibrateErrors, NoDegradationEpoch) {
    test::ScratchDir dir;
    const auto p = write_text(
        dir, "r.txt",
        std::string(kResponseHeader) + "2020-10-26T00:14:21.733 2010-03-24T00:00:00.000 2011-01-27T15:00:00.000 10 94_THIN 94 1 1 0.3 94 0 0 0 0\n");
    const ResponseTable t = read_response_table(p.string());
    expect_error([&] { degradation(94, utc("2009-01-01T00:00:00"), t, {AiapyVersion::v0_12_1, 10}); }, ErrorKind::bad_value);
    expect_error([&] { degradation(94, utc("2010-05-01T00:00:00"), t, {AiapyVersion::v0_12_1, 8}); }, ErrorKind::bad_value);
    expect_error([&] { degradation(1600, utc("2010-05-01T00:00:00"), t, {AiapyVersion::v0_10_2}); }, ErrorKind::bad_value);
    expect_error([&] { degradation(172, utc("2010-05-01T00:00:00"), t); }, ErrorKind::bad_value);
}

TEST(CalibrateErrors, MalformedTables) {
    test::ScratchDir dir;
    const auto bad = [&](const std::string& name, const std::string& text, bool pointing, const std::string& needle) {
        const auto p = write_text(dir, name, text);
        const Error e = expect_error(
            [&] {
                if (pointing)
                    read_pointing_table(p.string());
                else
                    read_response_table(p.string());
            },
            ErrorKind::bad_value);
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    };
    bad("nocol.csv", "T_START,A_171_X0\n2012-06-06T00:00:00Z,1\n", true, "T_STOP");
    bad("fields.csv", "T_START,T_STOP,A_171_X0\n2012-06-06T00:00:00Z,2012-06-06T03:00:00Z\n", true, "fields");
    bad("nan.csv", "T_START,T_STOP,A_171_X0\n2012-06-06T00:00:00Z,2012-06-06T03:00:00Z,abc\n", true, "A_171_X0");
    bad("time.csv", "T_START,T_STOP,A_171_X0\n2012-06-06 soon,2012-06-06T03:00:00Z,1\n", true, "T_START");
    bad("empty.csv", "# nothing\n", true, "header");
    bad("resp.txt", "DATE T_START T_STOP VER_NUM WAVE_STR\n2020 2010-03-24T00:00:00 2011-01-01T00:00:00 10 94_THIN\n", false, "WAVELNTH");
    bad("norows.txt", kResponseHeader, false, "no data rows");
    bad("resp2.txt", std::string(kResponseHeader) + "2020 a b\n", false, "fields");
    expect_error([&] { read_pointing_table((dir / "absent.csv").string()); }, ErrorKind::unreadable);
}

TEST(CalibrateErrors, MissingExposureTime) {
    AiaImage img = small_image(2, 2, 1, PixelType::f32, {{"PIXLUNIT", "'DN'"}});
    const Error e = expect_error([&] { normalize_exposure(img); }, ErrorKind::missing_keyword);
    EXPECT_NE(std::string(e.what()).find("EXPTIME"), std::string::npos);
    AiaImage zero = small_image(2, 2, 1, PixelType::f32, {{"EXPTIME", "0.0"}});
    expect_error([&] { normalize_exposure(zero); }, ErrorKind::bad_value);
    AiaImage unit = small_image(2, 2, 1, PixelType::f32, {{"EXPTIME", "1.0"}, {"BUNIT", "'erg/cm2'"}});
    expect_error([&] { normalize_exposure(unit); }, ErrorKind::unsupported);
}

// ---------------------------------------------------------------------------------------------
// 3. Goldens from the real aiapy

// The checks live in validate/golden_calibrate.hpp (shared with `aiaccel validate --stages prep`):
// header keys exact (0.12.1 CRPIX to crpix_abs), factors within 2 ε64, data bit for bit, refusals
// matched; the bounds are the "prep" rows of validate/tolerances.cpp.

namespace {

class Golden : public ::testing::TestWithParam<std::string> {};

// Judges a comparison with the table; prints its summary; SKIPPED when the golden is absent.
#define EXPECT_CALIBRATION_PASSES(expr, item)                                                                              \
    do {                                                                                                                   \
        const auto c_ = (expr);                                                                                            \
        if (!c_) GTEST_SKIP() << "no golden " << test::golden_store().item_path(GetParam(), item);                         \
        std::printf("[aiapy %s] %s\n", GetParam().c_str(), c_->summary().c_str());                                         \
        const auto j_ = validate::judge(c_->measurement, "prep", validate::Against::aiapy, "reference", "f64");            \
        EXPECT_EQ(j_.verdict, validate::Verdict::passed) << ::testing::PrintToString(j_.failed_texts()) << " " << j_.note; \
        for (const auto& p_ : c_->measurement.problems) ADD_FAILURE() << p_;                                               \
        EXPECT_GT(c_->results, 0);                                                                                         \
    } while (0)

}  // namespace

TEST_P(Golden, DerivedInputIsTheOraclesInput) {
    auto g = test::golden_item(GetParam(), "derived");
    if (!g) GTEST_SKIP() << "no golden " << test::golden_store().item_path(GetParam(), "derived");
    const AiaImage& d = test::golden_store().input(validate::GoldenStore::kDerivedKey);
    EXPECT_EQ(sha256_hex(d.data.data(), d.data.size() * sizeof(double)), g->at("data").at("sha256_le").get<std::string>());
    for (const char* k : {"cdelt1", "cdelt2", "crpix1", "crpix2"}) {
        std::string key = k;
        for (auto& ch : key) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        EXPECT_EQ(d.header.get_double(key).value(), test::golden_double(g->at("header_derived").at(k))) << key;
    }
}

TEST_P(Golden, Degradation) { EXPECT_CALIBRATION_PASSES(validate::degradation_vs_golden(test::golden_store(), GetParam()), "degradation"); }

TEST_P(Golden, CorrectDegradation) {
    EXPECT_CALIBRATION_PASSES(validate::correct_degradation_vs_golden(test::golden_store(), GetParam()), "correct_degradation");
}

TEST_P(Golden, Exposure) { EXPECT_CALIBRATION_PASSES(validate::exposure_vs_golden(test::golden_store(), GetParam()), "exposure"); }

TEST_P(Golden, UpdatePointing) {
    EXPECT_CALIBRATION_PASSES(validate::update_pointing_vs_golden(test::golden_store(), GetParam()), "update_pointing");
}

INSTANTIATE_TEST_SUITE_P(Aiapy, Golden, ::testing::Values("0.10.2", "0.12.1"),
                         [](const auto& info) { return info.param == "0.10.2" ? std::string("v0_10_2") : std::string("v0_12_1"); });
