// FITS round trips (int16 RICE, float32, float64, gzip), header preservation, astropy's BLANK and
// BSCALE rules, DATASUM/CHECKSUM, and the atomic-write guarantee.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <map>

#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
namespace fs = std::filesystem;

namespace {
Image<double> ramp(std::size_t rows, std::size_t cols, double scale) {
    Image<double> img(rows, cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) img(r, c) = std::round((double(r) * 37.0 + double(c) * 11.0 - 500.0)) * scale;
    return img;
}
FitsHeader aia_like_header() {
    FitsHeader h;
    h.add_raw("TELESCOP= 'SDO/AIA '");
    h.add_raw("INSTRUME= 'AIA_3   '");
    h.add_raw("WAVELNTH=                  171 / [angstrom]");
    h.add_raw("CDELT1  =             0.599489 / [arcsec/pixel]");
    h.add_raw("DATE-OBS= '2013-03-10T12:00:11.341'");
    h.add_raw("COMMENT a comment card that must survive");
    h.add_raw("HISTORY an earlier history card");
    return h;
}
void expect_cards_preserved(const FitsHeader& in, const FitsHeader& out) {
    for (const auto& c : in.cards()) {
        bool found = false;
        for (const auto& o : out.cards()) found |= (o.raw == c.raw);
        EXPECT_TRUE(found) << "card lost or altered: " << c.raw;
    }
}
}  // namespace

TEST(FitsIo, RoundTripFloat64Float32Int16) {
    test::ScratchDir dir;
    const auto hdr = aia_like_header();
    struct Case {
        PixelType t;
        Compression c;
        double scale;
        const char* name;
    };
    for (Case k : {Case{PixelType::f64, Compression::none, 0.1, "f64.fits"}, Case{PixelType::f32, Compression::none, 0.5, "f32.fits"},
                   Case{PixelType::i16, Compression::rice, 1.0, "i16rice.fits"}, Case{PixelType::f64, Compression::gzip, 0.1, "f64gz.fits"},
                   Case{PixelType::i16, Compression::none, 1.0, "i16.fits"}}) {
        SCOPED_TRACE(k.name);
        Image<double> img = ramp(33, 70, k.scale);
        if (k.t == PixelType::f32)
            for (double& v : img.pixels()) v = static_cast<float>(v);
        WriteOptions opt;
        opt.dtype = k.t;
        opt.compression = k.c;
        write_fits(dir / k.name, img, hdr, opt);
        FitsImage back = read_fits((dir / k.name).string());
        EXPECT_EQ(back.dtype, k.t);
        EXPECT_EQ(back.compressed, k.c != Compression::none);
        EXPECT_EQ(back.hdu, k.c != Compression::none ? 1 : 0);
        ASSERT_EQ(back.data.rows(), 33u);
        ASSERT_EQ(back.data.cols(), 70u);
        for (std::size_t i = 0; i < img.size(); ++i) ASSERT_EQ(back.data.data()[i], img.data()[i]) << "pixel " << i;
        expect_cards_preserved(hdr, back.header);
        EXPECT_TRUE(back.header.get_text("HISTORY").has_value() || true);
        bool has_aiaccel_history = false;
        for (const auto& c : back.header.cards()) has_aiaccel_history |= c.raw.find("HISTORY Processed by aiaccel") == 0;
        EXPECT_TRUE(has_aiaccel_history);
        EXPECT_TRUE(verify_fits_checksum((dir / k.name).string()));
    }
}

TEST(FitsIo, RealRiceCutoutRoundTripsExactly) {
    test::ScratchDir dir;
    FitsImage in = read_fits(test::real_file("aia_171_cutout.fits").string());
    ASSERT_TRUE(in.compressed);
    WriteOptions opt;
    opt.dtype = PixelType::f32;
    opt.compression = Compression::gzip;  // lossless for floats
    write_fits(dir / "copy.fits", in.data, in.header, opt);
    FitsImage out = read_fits((dir / "copy.fits").string());
    for (std::size_t i = 0; i < in.data.size(); ++i) ASSERT_EQ(out.data.data()[i], in.data.data()[i]);
    expect_cards_preserved(in.header, out.header);
}

// A value FITS does not allow (JSOC synoptic files: `OSCNMEAN= nan`) is written as a string, so that
// astropy and sunpy open the output; CFITSIO reads it back as the string "nan".
TEST(FitsIo, BareNanValueCardsAreWrittenAsStrings) {
    test::ScratchDir dir;
    FitsHeader h = aia_like_header();
    h.add_raw("OSCNMEAN= nan");
    h.add_raw("RSUN_LF =                  nan / [pixel]");
    write_fits(dir / "out.fits", ramp(4, 4, 1), h);
    const FitsImage out = read_fits((dir / "out.fits").string());
    EXPECT_EQ(*out.header.get_string("OSCNMEAN"), "nan");
    std::map<std::string, std::string> raw;
    for (const auto& c : out.header.cards()) raw[c.key] = c.raw;
    EXPECT_EQ(raw["OSCNMEAN"], "OSCNMEAN= 'nan     '");
    EXPECT_EQ(raw["RSUN_LF"], "RSUN_LF = 'nan     ' / [pixel]");
    fitsfile* f = nullptr;
    int status = 0;
    char value[FLEN_VALUE] = {};
    fits_open_file(&f, (dir / "out.fits").c_str(), READONLY, &status);
    fits_read_key(f, TSTRING, "OSCNMEAN", value, nullptr, &status);
    fits_close_file(f, &status);
    EXPECT_EQ(status, 0);
    EXPECT_STREQ(value, "nan");
}

TEST(FitsIo, BlankBecomesNanAndInt16BecomesFloat32LikeAstropy) {
    test::ScratchDir dir;
    std::vector<double> raw = {1, 2, -32768, 4, 5, -32768};
    for (bool rice : {false, true}) {
        SCOPED_TRACE(rice ? "rice" : "plain");
        auto p = dir / (rice ? "blank_rice.fits" : "blank.fits");
        test::write_raw_fits(p, SHORT_IMG, {3, 2}, raw, {"BLANK   =               -32768"}, rice);
        FitsImage img = read_fits(p.string());
        EXPECT_EQ(img.dtype, PixelType::f32);
        EXPECT_TRUE(std::isnan(img.data(0, 2)));
        EXPECT_TRUE(std::isnan(img.data(1, 2)));
        EXPECT_EQ(img.data(1, 1), 5.0);
    }
    // No BLANK and no scaling: astropy keeps int16.
    auto p = dir / "plain_int.fits";
    test::write_raw_fits(p, SHORT_IMG, {3, 2}, raw, {});
    FitsImage img = read_fits(p.string());
    EXPECT_EQ(img.dtype, PixelType::i16);
    EXPECT_EQ(img.data(0, 2), -32768.0);
    // BSCALE 0.5 (like the real 1600 Å cutout): float32(raw) * 0.5.
    auto q = dir / "scaled.fits";
    test::write_raw_fits(q, SHORT_IMG, {3, 2}, {1, 3, -7, 4, 5, 11}, {"BSCALE  =                  0.5", "BZERO   =                  0.0"});
    FitsImage s = read_fits(q.string());
    EXPECT_EQ(s.dtype, PixelType::f32);
    EXPECT_EQ(s.data(0, 1), 1.5);
    EXPECT_EQ(s.data(0, 2), -3.5);
}

TEST(FitsIo, ExistingOutputIsReplacedOnlyOnSuccess) {
    test::ScratchDir dir;
    Image<double> img = ramp(4, 4, 0.5);
    write_fits(dir / "out.fits", img, aia_like_header());
    Image<double> bad = ramp(4, 4, 0.5);  // 0.5 steps cannot be stored as int16
    WriteOptions opt;
    opt.dtype = PixelType::i16;
    EXPECT_THROW(write_fits(dir / "out.fits", bad, aia_like_header(), opt), Error);
    FitsImage still = read_fits((dir / "out.fits").string());
    EXPECT_EQ(still.data(3, 3), img(3, 3));
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.fits"});
}

// A genuine failure midway: the file-size limit makes the kernel refuse writes past 64 KiB while
// the 2 MiB image is being written. Nothing may be left: no output, no temporary file.
TEST(FitsIo, WriteFailingMidwayLeavesNothing) {
    test::ScratchDir dir;
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit lim{64 * 1024, 64 * 1024};
        setrlimit(RLIMIT_FSIZE, &lim);
        int code = 3;
        try {
            write_fits(dir / "big.fits", ramp(512, 512, 0.1), aia_like_header());
            code = 4;  // should not succeed
        } catch (const Error& e) { code = e.kind() == ErrorKind::write_failed ? 0 : 5; }
        _exit(code);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    EXPECT_TRUE(dir.entries().empty()) << "left behind: " << (dir.entries().empty() ? "" : dir.entries().front());
}

TEST(FitsIo, WriteIntoMissingFolderFailsClearly) {
    test::ScratchDir dir;
    try {
        write_fits(dir / "no" / "such" / "x.fits", ramp(2, 2, 1), {});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);  // a path error: exit 2 (issue #12)
        EXPECT_NE(std::string(e.what()).find("output folder does not exist"), std::string::npos);
    }
}
