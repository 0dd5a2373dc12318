// The stage subcommands end to end on real files: psf, deconvolve, register, prep — outputs, headers,
// exit codes, one-line errors naming the file, and no output file when a run fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/aia_image.hpp"
#include "core/fits_io.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
namespace fs = std::filesystem;

namespace {
const std::string kSmall = "aia_171_level1.fits";  // 128² full disk
const std::string kCutout = "aia_171_cutout.fits";  // no full disk
void expect_one_line_naming(const test::CommandResult& r, const std::string& what) {
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.back(), '\n');
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
}
}  // namespace

TEST(CliRegister, RegistersTheSmallFullDiskFile) {
    test::ScratchDir dir;
    auto r = test::run_aiaccel({"register", test::real_file(kSmall).string(), "-o", (dir / "out.fits").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    AiaImage out = load_aia((dir / "out.fits").string());
    EXPECT_EQ(*out.header.get_double("LVL_NUM"), 1.5);
    EXPECT_TRUE(verify_fits_checksum((dir / "out.fits").string()));
    EXPECT_EQ(out.data.rows(), 128u);
}

TEST(CliRegister, RefusesACutoutAndWritesNothing) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kCutout).string();
    auto r = test::run_aiaccel({"register", in, "-o", (dir / "out.fits").string()});
    EXPECT_EQ(r.exit_code, 2);
    expect_one_line_naming(r, in);
    EXPECT_NE(r.err.find("full solar disk"), std::string::npos);
    EXPECT_TRUE(dir.entries().empty());
}

// An order the backend declares it does not run is refused before anything is read (exit 2).
TEST(CliRegister, AnOrderTheBackendDoesNotRunIsAUsageError) {
    test::ScratchDir dir;
    auto r = test::run_aiaccel({"register", test::real_file(kSmall).string(), "--backend", "cpu", "--order", "1", "-o", (dir / "out.fits").string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("cpu: register implements spline order 3, not 1"), std::string::npos) << r.err;
    EXPECT_TRUE(dir.entries().empty());
}

TEST(CliPrep, Level15ChainWithDegradationAndExposure) {
    test::ScratchDir dir;
    auto r = test::run_aiaccel({"prep", test::real_file(kSmall).string(), "-o", dir.path().string(), "--correction-table",
                                (test::testdata() / "aia" / "tables" / "aia_V10_20201023_180000_response_table.txt").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The output, and the batch record (apps/prep_manifest.hpp): manifest.json + failures.txt.
    const auto entries = dir.entries();
    ASSERT_EQ(entries.size(), 3u);
    const auto out = dir / *std::find_if(entries.begin(), entries.end(), [](const std::string& e) { return e.ends_with(".fits"); });
    EXPECT_EQ(out.filename().string(), "aia_lev1.5_171a_2011_02_15t00_00_00_34z.fits");
    AiaImage img = load_aia(out.string());
    EXPECT_EQ(*img.header.get_double("LVL_NUM"), 1.5);
    EXPECT_EQ(*img.header.get_string("BUNIT"), "DN / s");
    EXPECT_EQ(img.dtype, PixelType::f64);
}

TEST(CliPrep, BadFilesAreReportedAndTheRestGoOn) {
    test::ScratchDir dir, in;
    std::ofstream(in / "broken.fits") << "not FITS\n";
    auto r = test::run_aiaccel({"prep", (in / "broken.fits").string(), test::real_file(kCutout).string(), test::real_file(kSmall).string(), "-o",
                                dir.path().string(), "--steps", "register,exposure"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("FAILED " + (in / "broken.fits").string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("FAILED " + test::real_file(kCutout).string()), std::string::npos) << r.err;
    EXPECT_EQ(dir.entries().size(), 3u);  // only the good file + manifest.json + failures.txt, no temporary leftovers
}

TEST(CliPrep, ExposureAloneWorksOnACutoutAndRefusesToOverwrite) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kCutout).string();
    auto r = test::run_aiaccel({"prep", in, "-o", dir.path().string(), "--steps", "exposure"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto again = test::run_aiaccel({"prep", in, "-o", dir.path().string(), "--steps", "exposure"});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("--overwrite"), std::string::npos);
    EXPECT_EQ(test::run_aiaccel({"prep", in, "-o", dir.path().string(), "--steps", "exposure", "--overwrite"}).exit_code, 0);
}

TEST(CliPrep, UsageErrors) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    EXPECT_EQ(test::run_aiaccel({"prep", in, "-o", dir.path().string(), "--steps", "pointing"}).exit_code, 2);  // needs a table
    EXPECT_EQ(test::run_aiaccel({"prep", in, "-o", dir.path().string(), "--steps", "sharpen"}).exit_code, 2);
    EXPECT_EQ(test::run_aiaccel({"prep", in, "-o", dir.path().string(), "--level", "2"}).exit_code, 2);
}

TEST(CliPsf, UnknownChannelAndBadBackendAreUsageErrors) {
    test::ScratchDir dir;
    auto r = test::run_aiaccel({"psf", "--channel", "1600", "-o", (dir / "p.fits").string()});
    EXPECT_EQ(r.exit_code, 2);
    expect_one_line_naming(r, "94, 131, 171, 193, 211, 304, 335");
    auto b = test::run_aiaccel({"psf", "--channel", "171", "-o", (dir / "p.fits").string(), "--backend", "gpu9000"});
    EXPECT_EQ(b.exit_code, 2);
    EXPECT_NE(b.err.find("known: reference, cpu, cuda"), std::string::npos) << b.err;
    EXPECT_TRUE(dir.entries().empty());
}

TEST(CliDeconvolve, SmallImageNeedsAMatchingPsf) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    auto r = test::run_aiaccel({"deconvolve", in, "-o", (dir / "d.fits").string()});
    EXPECT_EQ(r.exit_code, 2);
    expect_one_line_naming(r, in);
    EXPECT_NE(r.err.find("4096x4096"), std::string::npos) << r.err;
    // With a flat PSF of the image's shape every estimate is the image mean, so RL returns the clipped
    // input. (A delta PSF would give 0/0 = NaN everywhere on this image's clipped zeros — as aiapy does.)
    Image<double> flat(128, 128, 1.0 / (128.0 * 128.0));
    write_fits(dir / "flat.fits", flat, {});
    auto ok = test::run_aiaccel({"deconvolve", in, "--psf", (dir / "flat.fits").string(), "-n", "3", "-o", (dir / "d.fits").string()});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    AiaImage src = load_aia(in), out = load_aia((dir / "d.fits").string());
    EXPECT_NEAR(out.data(64, 64), std::max(0.0, src.data(64, 64)), 1e-9 * std::fabs(src.data(64, 64)) + 1e-12);
    EXPECT_EQ(out.header.get_string("DATE-OBS"), src.header.get_string("DATE-OBS"));
}

TEST(CliDerive, WritesTheLabelledFullResolutionInput) {
    test::ScratchDir dir;
    auto r = test::run_aiaccel(
        {"derive", test::real_file("aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits").string(), "-o", (dir / "d.fits").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    AiaImage d = load_aia((dir / "d.fits").string());
    EXPECT_EQ(d.data.rows(), 4096u);
    EXPECT_TRUE(d.header.has("DERIVED"));
    EXPECT_EQ(*d.header.get_double("CDELT1"), 0.609373);
    EXPECT_EQ(test::run_aiaccel({"derive", test::real_file(kSmall).string(), "-o", (dir / "e.fits").string()}).exit_code, 2);
}
