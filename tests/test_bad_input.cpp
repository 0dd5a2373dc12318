// Bad input gets a specific, one-line error naming the file, exit code 2, and no output:
// truncated files, text files, 3-D FITS, missing files, non-AIA FITS, unknown channels,
// missing keywords — through the library and through `aiaccel info`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
namespace fs = std::filesystem;

namespace {

struct BadCase {
    std::string name;
    ErrorKind kind;
    std::string expect;  // substring of the message
};

void truncate_copy(const fs::path& from, const fs::path& to, std::uintmax_t bytes) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    fs::resize_file(to, bytes);
}

const std::vector<std::string> kAiaCards = {
    "INSTRUME= 'AIA_3   '",           "WAVELNTH=                  171", "EXPTIME =                  2.0", "DATE-OBS= '2013-03-10T12:00:11.341'",
    "CDELT1  =                  0.6", "CDELT2  =                  0.6", "CRPIX1  =                  2.0", "CRPIX2  =                  2.0",
    "RSUN_OBS=                960.0"};

// Builds every bad input in `dir`; returns file name → expected error.
std::vector<BadCase> make_bad_inputs(const test::ScratchDir& dir) {
    truncate_copy(test::real_file("aia_171_level1.fits"), dir / "truncated_plain.fits", 100000);
    truncate_copy(test::real_file("aia_171_cutout.fits"), dir / "truncated_rice.fits", 200000);
    truncate_copy(test::real_file("aia_171_level1.fits"), dir / "header_only.fits", 2000);
    std::ofstream(dir / "notes.txt") << "this is a text file, not FITS\n";
    test::write_raw_fits(dir / "cube.fits", DOUBLE_IMG, {4, 4, 3}, std::vector<double>(48, 1.0), kAiaCards);
    test::write_raw_fits(dir / "not_aia.fits", DOUBLE_IMG, {4, 4}, std::vector<double>(16, 1.0), {"INSTRUME= 'HMI_SIDE1'"});
    auto unknown = kAiaCards;
    unknown[1] = "WAVELNTH=                  999";
    test::write_raw_fits(dir / "unknown_channel.fits", DOUBLE_IMG, {4, 4}, std::vector<double>(16, 1.0), unknown);
    auto no_exptime = kAiaCards;
    no_exptime.erase(no_exptime.begin() + 2);
    test::write_raw_fits(dir / "no_exptime.fits", DOUBLE_IMG, {4, 4}, std::vector<double>(16, 1.0), no_exptime);
    test::write_raw_fits(dir / "bitpix64.fits", LONGLONG_IMG, {4, 4}, std::vector<double>(16, 1.0), kAiaCards);
    return {
        {"truncated_plain.fits", ErrorKind::unreadable, "truncated"},
        {"truncated_rice.fits", ErrorKind::unreadable, "truncated"},
        {"header_only.fits", ErrorKind::unreadable, ""},
        {"notes.txt", ErrorKind::unreadable, "not a readable FITS file"},
        {"cube.fits", ErrorKind::unsupported, "3-D (4x4x3), expected a 2-D image"},
        {"not_aia.fits", ErrorKind::not_aia, "not an AIA image"},
        {"unknown_channel.fits", ErrorKind::not_aia, "unknown AIA channel WAVELNTH = 999"},
        {"no_exptime.fits", ErrorKind::missing_keyword, "missing keyword EXPTIME"},
        {"bitpix64.fits", ErrorKind::unsupported, "unsupported BITPIX 64"},
        {"does_not_exist.fits", ErrorKind::unreadable, "no such file"},
    };
}

}  // namespace

TEST(BadInput, LibraryThrowsSpecificErrorNamingTheFile) {
    test::ScratchDir dir;
    for (const auto& c : make_bad_inputs(dir)) {
        SCOPED_TRACE(c.name);
        const std::string path = (dir / c.name).string();
        try {
            AiaImage img = load_aia(path);
            (void)img.aia().exptime();
            ADD_FAILURE() << "no error for " << c.name;
        } catch (const Error& e) {
            std::string msg = e.what();
            EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
            EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
            if (c.name != "header_only.fits") { EXPECT_EQ(e.kind(), c.kind) << msg; }
            EXPECT_EQ(e.exit_code(), 2);
        }
    }
}

TEST(BadInput, InfoExitsTwoWithOneLinePerBadFile) {
    test::ScratchDir dir;
    for (const auto& c : make_bad_inputs(dir)) {
        SCOPED_TRACE(c.name);
        const std::string path = (dir / c.name).string();
        auto r = test::run_aiaccel({"info", path});
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_TRUE(r.out.empty()) << r.out;
        ASSERT_FALSE(r.err.empty());
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
        EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    }
}

TEST(BadInput, InfoGoesOnAfterABadFile) {
    test::ScratchDir dir;
    std::ofstream(dir / "notes.txt") << "text\n";
    auto r = test::run_aiaccel({"info", (dir / "notes.txt").string(), test::real_file("aia_171_level1.fits").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("171 Å"), std::string::npos);
}

TEST(Cli, HelpAndUsageErrors) {
    auto h = test::run_aiaccel({"--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_NE(h.out.find("info"), std::string::npos);
    auto hi = test::run_aiaccel({"info", "--help"});
    EXPECT_EQ(hi.exit_code, 0);
    EXPECT_NE(hi.out.find("--json"), std::string::npos);
    EXPECT_EQ(test::run_aiaccel({"info"}).exit_code, 2);
    EXPECT_EQ(test::run_aiaccel({"no-such-command"}).exit_code, 2);
    EXPECT_EQ(test::run_aiaccel({}).exit_code, 2);
}

TEST(Cli, InfoOnEveryBundledRealFile) {
    for (auto& e : fs::directory_iterator(test::testdata() / "aia")) {
        if (e.path().extension() != ".fits") continue;
        SCOPED_TRACE(e.path().string());
        auto r = test::run_aiaccel({"info", "--json", e.path().string()});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("\"channel\""), std::string::npos);
    }
}
