// Reference register (sunpy rotate + aiapy register) and contains_full_disk: exact answers,
// properties, and goldens from the real aiapy (testdata/golden/aiapy-<version>/items/register__*.json,
// full_disk.json; made by tools/oracle/golden_aiapy.py). Golden acceptance (docs/validation.md §4):
// shape, dtype, NaN mask and header values (floats to 1e-12 relative) equal; ≥ 99.9 % of pixels
// bitwise equal in the output dtype; max|Δ|/max ≤ 2e-7 outside a 2-pixel band at the edge of the
// valid region; pixels that flip between `missing` and data counted, ≤ 100.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>

#include "core/error.hpp"
#include "core/derived_input.hpp"
#include "core/fits_io.hpp"
#include "core/sha256.hpp"
#include "reference/register_reference.hpp"
#include "tests/golden_support.hpp"
#include "tests/register_cases.hpp"
#include "tests/test_support.hpp"
#include "validate/golden_checks.hpp"
#include "validate/verdict.hpp"

using namespace aiaccel;
using namespace aiaccel::reference;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// ---- golden helpers -----------------------------------------------------------------------------

std::vector<fs::path> golden_dirs() {
    std::vector<fs::path> v;
    for (const char* ver : {"aiapy-0.10.2", "aiapy-0.12.1"}) {
        fs::path d = test::testdata() / "golden" / ver;
        if (fs::exists(d / "items")) v.push_back(d);
    }
    return v;
}

json load_json(const fs::path& p) {
    std::ifstream in(p);
    return json::parse(in);
}

// One register golden (validate/golden_checks.hpp: dtype, shape, header, every stored array with
// the edge band and flip count, refusals), judged with the tolerance table's rows.
void run_register_golden(const fs::path& dir, const json& rec) {
    const std::string key = rec.at("input").get<std::string>();
    SCOPED_TRACE(dir.filename().string() + " register:" + key);
    const AiaImage& in = test::golden_store().input(key);
    std::optional<AiaImage> out;
    std::optional<Error> refusal;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        out = register_image(in);
    } catch (const Error& e) { refusal = e; }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto gc = validate::register_vs_golden(in, out ? &*out : nullptr, refusal ? &*refusal : nullptr, rec, test::golden_store());
    const auto j = validate::judge(gc.measurement, "register", validate::Against::aiapy, "reference", "f64");
    std::string summary = fmt::format("register {} ({}) in {:.2f} s: {}", key, dir.filename().string(), secs, gc.note);
    for (const auto& p : gc.parts) summary += fmt::format("\n    {}: {}", p.name, p.text);
    std::cout << "  " << summary << "\n";
    EXPECT_EQ(j.verdict, validate::Verdict::passed) << ::testing::PrintToString(j.failed_texts()) << " " << j.note;
    for (const auto& p : gc.measurement.problems) ADD_FAILURE() << p;
    ::testing::Test::RecordProperty("summary_" + key, summary);
}

// True when the golden's input can be read: the synoptic files live in AIA_DATA_DIR/synoptic only.
bool input_available(const json& rec) {
    try {
        (void)test::golden_store().input(rec.at("input").get<std::string>());
        return true;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::unreadable) throw;
        std::cout << "  register:" << rec.at("input").get<std::string>() << " not checked: " << e.what() << "\n";
        return false;
    }
}

void run_register_goldens(bool slow) {
    auto dirs = golden_dirs();
    if (dirs.empty()) GTEST_SKIP() << "no aiapy goldens under testdata/golden/aiapy-*/items";
    std::size_t n = 0;
    for (const auto& dir : dirs)
        for (auto& e : fs::directory_iterator(dir / "items")) {
            const std::string name = e.path().filename().string();
            if (name.rfind("register__", 0) != 0) continue;
            const bool is_slow = name == "register__derived.json";
            if (is_slow != slow) continue;
            const json rec = load_json(e.path());
            if (!input_available(rec)) continue;
            run_register_golden(dir, rec);
            ++n;
        }
    if (n == 0) GTEST_SKIP() << "no register goldens of this size present";
}

}  // namespace

// ---- numpy/OpenBLAS 2×2 algebra --------------------------------------------------------------------

TEST(RegisterAlgebra, InverseOfRotationIsTransposeUpToRoundOff) {
    for (double deg : {0.0, 0.019413, -0.7, 30.0, 89.0, 91.0, 179.0, -135.0}) {
        const double p = deg * std::numbers::pi / 180;
        const Matrix2 r = {{{std::cos(p), -std::sin(p)}, {std::sin(p), std::cos(p)}}};
        const Matrix2 inv = numpy_inv2(r);
        const Matrix2 id = numpy_matmul2(r, inv);
        EXPECT_NEAR(id[0][0], 1, 4e-16);
        EXPECT_NEAR(id[1][1], 1, 4e-16);
        EXPECT_NEAR(id[0][1], 0, 4e-16);
        EXPECT_NEAR(id[1][0], 0, 4e-16);
    }
    EXPECT_THROW(numpy_inv2({{{1, 2}, {2, 4}}}), Error);
}

TEST(RegisterAlgebra, KnownNumpyResults) {
    // np.linalg.inv / np.dot results for the 171 Å level-1 test map's CROTA2 = 0.019413°, taken from
    // numpy 2.4.6 + scipy-openblas 0.3.31 on the golden machine (hex floats).
    const double p = 0.019413 * (std::numbers::pi / 180.0);
    const Matrix2 r = {{{std::cos(p), (-1 * 1.0) * std::sin(p)}, {(1 / 1.0) * std::sin(p), std::cos(p)}}};
    const Matrix2 pc = numpy_matmul2(r, numpy_inv2(r));
    EXPECT_EQ(pc[0][0], 1.0);
    EXPECT_EQ(pc[1][1], 1.0);
    EXPECT_EQ(pc[0][1], std::strtod("-0x1.28acb2729461cp-65", nullptr));
    EXPECT_EQ(pc[1][0], std::strtod("0x1.740bca357f5d9p-65", nullptr));
}

// ---- rotate: exact answers and properties -------------------------------------------------------

TEST(RegisterRotate, IdentityRotationReturnsTheInput) {
    AiaImage m = test::synthetic_register_map(64, 0.6, 0.0);
    AiaImage out = rotate(m, {});
    ASSERT_EQ(out.data.rows(), 64u);
    ASSERT_EQ(out.data.cols(), 64u);
    double worst = 0;
    for (std::size_t i = 0; i < m.data.size(); ++i) worst = std::max(worst, std::fabs(out.data.data()[i] - m.data.data()[i]));
    EXPECT_LE(worst, 1e-12);
    EXPECT_EQ(*out.header.get_double("CRPIX1"), 32.5);
    EXPECT_EQ(*out.header.get_double("PC1_1"), 1.0);
    EXPECT_EQ(*out.header.get_double("PC1_2"), 0.0);
    EXPECT_FALSE(out.header.has("CROTA2"));
}

TEST(RegisterRotate, NinetyDegreesPermutesPixels) {
    // rmatrix [[0, −1], [1, 0]] about the array centre: output (x, y) samples input (y, n−1−x) —
    // integer coordinates, so every pixel is an exact copy (spline interpolation at knots only
    // reproduces the samples up to the prefilter's round-off).
    AiaImage m = test::synthetic_register_map(33, 0.6, 0.0);
    RotateOptions o;
    o.rmatrix = Matrix2{{{0.0, -1.0}, {1.0, 0.0}}};
    o.order = 1;  // no prefilter: bit-exact copy
    AiaImage out = rotate(m, o);
    ASSERT_EQ(out.data.rows(), 33u);
    for (std::size_t y = 0; y < 33; ++y)
        for (std::size_t x = 0; x < 33; ++x) ASSERT_EQ(out.data(y, x), m.data(32 - x, y)) << y << "," << x;
    o.order = 3;
    out = rotate(m, o);
    double worst = 0;
    for (std::size_t y = 0; y < 33; ++y)
        for (std::size_t x = 0; x < 33; ++x) worst = std::max(worst, std::fabs(out.data(y, x) - m.data(32 - x, y)));
    EXPECT_LE(worst, 1e-12);
}

TEST(RegisterRotate, NanPixelsGrowTheMaskAndTheRestStaysFinite) {
    AiaImage m = test::synthetic_register_map(48, 0.6, 0.0, PixelType::f32);
    m.data(20, 30) = NAN;
    RotateOptions o;
    o.rmatrix = Matrix2{{{1.0, 0.0}, {0.0, 1.0}}};
    AiaImage out = rotate(m, o);
    // Identity transform at integer coordinates: the order-1 rotation of the NaN count dilated by
    // sunpy's kernel for order 3 (5×5) is positive exactly on the 5×5 block around the NaN.
    for (std::size_t y = 0; y < 48; ++y)
        for (std::size_t x = 0; x < 48; ++x) {
            const bool in_block = y >= 18 && y <= 22 && x >= 28 && x <= 32;
            EXPECT_EQ(std::isnan(out.data(y, x)), in_block) << y << "," << x;
            if (!in_block) { EXPECT_EQ(out.data(y, x), static_cast<double>(static_cast<float>(out.data(y, x)))); }
        }
}

TEST(RegisterRotate, IntegerDataWithNonIntegerMissingAndPaddingIsRefused) {
    AiaImage m = test::synthetic_register_map(32, 0.6, 10.0);
    m.dtype = PixelType::i16;
    for (double& v : m.data.pixels()) v = std::round(v);
    RotateOptions o;
    o.missing = 0.5;
    try {
        (void)rotate(m, o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::bad_value);
        EXPECT_NE(std::string(e.what()).find("synthetic.fits"), std::string::npos);
    }
    o.missing = 0.0;
    AiaImage out = rotate(m, o);
    for (double v : out.data.pixels()) EXPECT_EQ(v, std::round(v));
}

// ---- register: properties -----------------------------------------------------------------------

TEST(Register, RegisteredImageRegistersToItselfUpToRoundOff) {
    AiaImage in = load_aia(test::real_file("aia_171_level1.fits").string());
    AiaImage once = register_image(in);
    AiaImage twice = register_image(once);
    ASSERT_EQ(twice.data.rows(), once.data.rows());
    ASSERT_EQ(twice.data.cols(), once.data.cols());
    // scale 1, PC ≈ identity (1e-20 off-diagonal), centre already at the array centre: every output
    // coordinate is an integer within ~1e-14 px, where the spline reproduces the samples.
    const PixelStats s = pixel_stats(once.data);
    double worst = 0;
    for (std::size_t i = 0; i < once.data.size(); ++i) worst = std::max(worst, std::fabs(twice.data.data()[i] - once.data.data()[i]));
    EXPECT_LE(worst / s.max, 1e-12);
    for (const char* k : {"CRPIX1", "CRPIX2", "CDELT1", "CDELT2", "R_SUN"})
        EXPECT_NEAR(*twice.header.get_double(k), *once.header.get_double(k), 1e-12 * std::fabs(*once.header.get_double(k))) << k;
    EXPECT_EQ(*twice.header.get_double("LVL_NUM"), 1.5);
}

TEST(Register, RefusesAnImageWithoutTheFullDisk) {
    AiaImage in = load_aia(test::real_file("aia_171_cutout.fits").string());
    try {
        (void)register_image(in);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::bad_value);
        const std::string w = e.what();
        EXPECT_EQ(w.rfind(in.path + ": does not contain the full solar disk (register needs a full-disk image)", 0), 0u) << w;
    }
}

TEST(Register, ShrinkingUnpadsLikeSunpyAndFullFrameKeepsTheFrame) {
    // The "4094 quirk" in miniature: CDELT 9.45″ on 256² → target 16 × 0.6″ = 9.6″, scale 0.984,
    // CROTA2 0.3°: the rotated frame spans ~253.2 px, so sunpy unpads one pixel per side and aiapy's
    // crop keeps the 254² that are left, reference pixel at (W + 1) / 2. Shape and header as aiapy
    // 0.10.2 gave them for this header (checked on the golden machine).
    AiaImage in = test::synthetic_register_map(256, 9.45, 0.3, PixelType::f32);
    AiaImage out = register_image(in);
    EXPECT_EQ(out.data.rows(), 254u);
    EXPECT_EQ(out.data.cols(), 254u);
    EXPECT_EQ(*out.header.get_double("CRPIX1"), 127.5);
    EXPECT_EQ(*out.header.get_double("CRPIX2"), 127.5);
    EXPECT_EQ(*out.header.get_double("CDELT1"), std::strtod("0x1.3333333333333p+3", nullptr));
    EXPECT_EQ(*out.header.get_double("R_SUN"), 99.95833333333334);
    RegisterOptions o;
    o.full_frame = true;
    AiaImage full = register_image(in, o);
    EXPECT_EQ(full.data.rows(), 256u);
    EXPECT_EQ(*full.header.get_double("CRPIX1"), 128.5);
    for (std::size_t y = 0; y < 254; ++y)
        for (std::size_t x = 0; x < 254; ++x) ASSERT_EQ(full.data(y + 1, x + 1), out.data(y, x));
}

TEST(Register, Float32StaysFloat32AndFullFrameKeepsThePaddedFrame) {
    AiaImage in = load_aia(test::real_file("aia_171_level1.fits").string());
    in.dtype = PixelType::f32;
    for (double& v : in.data.pixels()) v = static_cast<double>(static_cast<float>(v));
    AiaImage out = register_image(in);
    EXPECT_EQ(out.dtype, PixelType::f32);
    for (double v : out.data.pixels()) ASSERT_EQ(v, static_cast<double>(static_cast<float>(v)));
    RegisterOptions o;
    o.full_frame = true;
    AiaImage full = register_image(in, o);
    EXPECT_GE(full.data.rows(), out.data.rows());
}

// ---- contains_full_disk --------------------------------------------------------------------------

TEST(FullDisk, SyntheticDiskInAndOut) {
    AiaImage big = test::synthetic_register_map(128, 20.0, 0.0);  // 2560″ field: disk (959.6″) inside
    FullDiskCheck a = contains_full_disk(big);
    EXPECT_TRUE(a.full_disk);
    EXPECT_TRUE(a.sun_centre_inside);
    EXPECT_GT(a.margin_arcsec, 250);
    EXPECT_LT(a.margin_arcsec, 340);
    AiaImage small = test::synthetic_register_map(128, 10.0, 0.0);  // 1280″ field: the limb is outside
    FullDiskCheck b = contains_full_disk(small);
    EXPECT_FALSE(b.full_disk);
    EXPECT_LT(b.margin_arcsec, 0);
}

TEST(FullDisk, EqualsAiapyForEveryRealFile) {
    auto dirs = golden_dirs();
    if (dirs.empty()) GTEST_SKIP() << "no aiapy goldens";
    std::size_t n = 0;
    for (const auto& dir : dirs) {
        const fs::path p = dir / "items" / "full_disk.json";
        if (!fs::exists(p)) continue;
        const json fd = load_json(p);
        for (auto& [key, r] : fd.at("results").items()) {
            SCOPED_TRACE(dir.filename().string() + " " + key);
            FullDiskCheck c = contains_full_disk(test::golden_store().input(key));
            EXPECT_EQ(c.full_disk, r.at("contains_full_disk").get<bool>()) << "margin " << c.margin_arcsec << "″";
            EXPECT_FALSE(c.ambiguous);
            std::cout << fmt::format("  full disk {:24s} {:5} (aiapy {:5}), margin {:9.3f}″, Sun centre inside {}\n", key, c.full_disk,
                                     r.at("contains_full_disk").get<bool>(), c.margin_arcsec, c.sun_centre_inside);
            ++n;
        }
    }
    if (n == 0) GTEST_SKIP() << "no full_disk golden";
}

// ---- goldens ---------------------------------------------------------------------------------------

TEST(RegisterGolden, RealFilesMatchAiapy) { run_register_goldens(false); }

TEST(RegisterWarnings, Level15OrNoLevelWarnsAsAiapy) {
    AiaImage img = test::golden_store().input("aia_171_level1");  // LVL_NUM 1
    EXPECT_TRUE(register_warnings(img).empty());
    img.header.set_double("LVL_NUM", 1.5);
    EXPECT_EQ(register_warnings(img), std::vector<std::string>{"Image registration should only be applied to level 1 data"});
    img.header.erase("LVL_NUM");  // sunpy's processing_level is None: aiapy warns too
    EXPECT_EQ(register_warnings(img).size(), 1u);
}
TEST(RegisterGoldenSlow, Derived4096MatchesAiapy) { run_register_goldens(true); }
