// Hostile FITS headers never reach CFITSIO: crafted copies of the real files (tile-compression
// parameters, image sizes, duplicated structural cards, non-numeric scaling keywords, a FIFO,
// a corrupted RICE tile) are refused with one line naming the file and exit code 2, through the
// library and every command; all real files still read and their checksums verify.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "core/fits_precheck.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
namespace fs = std::filesystem;

namespace {

using test::slurp;
using test::spit;

std::string card(const std::string& key, const std::string& value) {
    std::string k = key;
    k.resize(8, ' ');
    std::string c = k + "= " + std::string(value.size() < 20 ? 20 - value.size() : 0, ' ') + value;
    c.resize(80, ' ');
    return c;
}

// Index of the `nth` (0-based) card with this key at an 80-byte boundary, or npos.
std::size_t find_card(const std::string& f, const std::string& key, int nth = 0) {
    std::string k = key;
    k.resize(8, ' ');
    for (std::size_t i = 0; i + 80 <= f.size(); i += 80)
        if (f.compare(i, 8, k) == 0 && nth-- == 0) return i;
    return std::string::npos;
}

// A copy of testdata/aia/`src` with the first card `key` set to `value` (raw FITS value text);
// with `insert`, the card is added before the END card of the HDU holding `after` instead.
fs::path crafted(const test::ScratchDir& dir, const std::string& src, const std::string& name, const std::string& key, const std::string& value,
                 bool insert = false, const std::string& after = "SIMPLE") {
    std::string f = slurp(test::real_file(src));
    if (insert) {
        std::size_t end = find_card(f, after);
        while (f.compare(end, 8, "END     ") != 0) end += 80;
        EXPECT_EQ(f.compare(end + 80, 80, std::string(80, ' ')), 0) << "no room for a card";
        f.replace(end + 80, 80, f.substr(end, 80));
        f.replace(end, 80, card(key, value));
    } else {
        const std::size_t at = find_card(f, key);
        EXPECT_NE(at, std::string::npos) << key;
        f.replace(at, 80, card(key, value));
    }
    const fs::path out = dir / name;
    spit(out, f);
    return out;
}

struct Crafted {
    fs::path file;
    std::string expect;  // substring of the one-line message
};

const char* kRice = "aia_171_cutout.fits";  // RICE_1 tile-compressed int16 (HDU 1), with CHECKSUM/DATASUM
const char* kPlain = "aia_171_level1.fits";  // plain float64 128x128 primary image

std::vector<Crafted> make_crafted(const test::ScratchDir& d) {
    std::vector<Crafted> v;
    // Item 1: tile-compression parameters (SIGFPE / SIGSEGV inside CFITSIO before the pre-check).
    v.push_back({crafted(d, kRice, "ztile0.fits", "ZTILE1", "0"), "invalid tile size ZTILE1 = 0"});
    v.push_back({crafted(d, kRice, "zval0.fits", "ZVAL1", "0"), "invalid RICE BLOCKSIZE ZVAL1 = 0"});
    v.push_back({crafted(d, kRice, "zvalhuge.fits", "ZVAL1", "9999999"), "invalid RICE BLOCKSIZE ZVAL1 = 9999999"});
    v.push_back({crafted(d, kRice, "bytepix3.fits", "ZVAL2", "3"), "invalid RICE BYTEPIX ZVAL2 = 3"});
    v.push_back({crafted(d, kRice, "ztilebig.fits", "ZTILE2", "99999"), "invalid tile size ZTILE2 = 99999"});
    v.push_back({crafted(d, kRice, "hcompress.fits", "ZCMPTYPE", "'HCOMPRESS_1'"), "unsupported tile compression ZCMPTYPE = 'HCOMPRESS_1'"});
    v.push_back({crafted(d, kRice, "zbitpix.fits", "ZBITPIX", "12"), "invalid ZBITPIX 12"});
    v.push_back({crafted(d, kRice, "znaxis7.fits", "ZNAXIS", "7"), "invalid ZNAXIS 7"});
    v.push_back({crafted(d, kRice, "znaxis1huge.fits", "ZNAXIS1", "100000"), "at most 16384 pixels a side"});
    v.push_back({crafted(d, kRice, "znaxis2small.fits", "ZNAXIS2", "10"), "rows for 10 tiles"});
    v.push_back({crafted(d, kRice, "zquantiz.fits", "ZQUANTIZ", "'BOGUS'", true, "XTENSION"), "invalid ZQUANTIZ 'BOGUS'"});
    v.push_back({crafted(d, kRice, "zdither.fits", "ZDITHER0", "-5", true, "XTENSION"), "invalid ZDITHER0 -5"});
    v.push_back({crafted(d, kRice, "tform.fits", "TFORM1", "'1QB'"), "the columns are 16 bytes wide"});
    v.push_back({crafted(d, kRice, "tformbad.fits", "TFORM1", "'1PZ'"), "TFORM1"});
    v.push_back({crafted(d, kRice, "pcount.fits", "PCOUNT", "10"), "outside the 10-byte heap"});
    v.push_back({crafted(d, kRice, "pcounthuge.fits", "PCOUNT", "99999999999"), "truncated"});
    v.push_back({crafted(d, kRice, "theap.fits", "THEAP", "1", true, "XTENSION"), "THEAP 1 is outside the data unit"});
    {  // a tile descriptor pointing far outside the heap
        std::string f = slurp(test::real_file(kRice));
        std::size_t end = find_card(f, "XTENSION");
        while (f.compare(end, 8, "END     ") != 0) end += 80;
        const std::size_t table = (end / 2880 + 1) * 2880;
        f[table + 4] = '\x7f';  // row 1: (length, offset) as two big-endian int32; offset's top byte
        spit(d / "descriptor.fits", f);
        v.push_back({d / "descriptor.fits", "tile 1: "});
    }
    // Item 2: image sizes.
    v.push_back({crafted(d, kPlain, "naxis2e32.fits", "NAXIS1", "4294967296"), "NAXIS1 = 4294967296; at most 16384 pixels a side"});
    v.push_back({crafted(d, kPlain, "naxis2e31.fits", "NAXIS1", "2147483648"), "NAXIS1 = 2147483648; at most 16384 pixels a side"});
    v.push_back({crafted(d, kPlain, "naxis1e5.fits", "NAXIS1", "100000"), "at most 16384 pixels a side"});
    v.push_back({crafted(d, kPlain, "naxis0.fits", "NAXIS2", "0"), "empty image (NAXIS2 = 0)"});
    v.push_back({crafted(d, kPlain, "naxisneg.fits", "NAXIS2", "-3"), "negative NAXIS2"});
    v.push_back({crafted(d, kPlain, "naxis1big.fits", "NAXIS1", "16384"), "truncated"});
    v.push_back({crafted(d, kPlain, "naxistext.fits", "NAXIS1", "'abc'"), "keyword NAXIS1 is not an integer"});
    // Item 12: duplicated structural card (CFITSIO/astropy would take the first, prep's scanner the last).
    v.push_back({crafted(d, kPlain, "dupnaxis.fits", "NAXIS1", "64", true), "keyword NAXIS1 appears more than once"});
    // Item 12: non-numeric scaling keywords are refused, naming the keyword.
    v.push_back({crafted(d, kPlain, "bscale.fits", "BSCALE", "'abc'", true), "keyword BSCALE is not a finite number ('abc')"});
    v.push_back({crafted(d, kPlain, "blank.fits", "BLANK", "'abc'"), "keyword BLANK is not an integer ('abc')"});
    v.push_back({crafted(d, kRice, "zblank.fits", "BLANK", "1.5"), "keyword BLANK is not an integer ('1.5')"});
    return v;
}

}  // namespace

TEST(FitsPrecheck, RealFilesPassAndChecksumsVerify) {
    std::vector<fs::path> files;
    for (auto& e : fs::directory_iterator(test::testdata() / "aia"))
        if (e.path().extension() == ".fits") files.push_back(e.path());
    if (const char* shared = std::getenv("AIA_DATA_DIR"))
        for (auto& e : fs::recursive_directory_iterator(shared))
            if (e.path().extension() == ".fits") files.push_back(e.path());
    ASSERT_GE(files.size(), 5u);
    for (const auto& p : files) {
        SCOPED_TRACE(p.string());
        FitsLayout l = fits_precheck(p.string(), true);
        EXPECT_NE(l.datasum, SumState::mismatch) << l.sum_detail;
        EXPECT_NE(l.checksum, SumState::mismatch) << l.sum_detail;
        EXPECT_NO_THROW(read_fits(p.string()));
    }
    FitsLayout rice = fits_precheck(test::real_file(kRice).string(), true);
    EXPECT_TRUE(rice.compressed);
    EXPECT_EQ(rice.hdu, 1);
    EXPECT_EQ(rice.datasum, SumState::ok);
    EXPECT_EQ(rice.checksum, SumState::ok);
}

TEST(FitsPrecheck, CraftedHeadersAreRefusedByTheLibrary) {
    test::ScratchDir dir;
    for (const auto& c : make_crafted(dir)) {
        SCOPED_TRACE(c.file.string());
        try {
            (void)read_fits(c.file.string());
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            const std::string msg = e.what();
            EXPECT_EQ(msg.rfind(c.file.string() + ": ", 0), 0u) << msg;
            EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
            EXPECT_EQ(e.exit_code(), 2) << msg;
        }
    }
}

TEST(FitsPrecheck, EveryCommandRefusesCraftedHeadersWithExitTwo) {
    test::ScratchDir dir;
    const auto cases = make_crafted(dir);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.file.string());
        auto r = test::run_aiaccel({"info", c.file.string()});
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
        EXPECT_NE(r.err.find(c.file.string() + ": "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    }
    // The crash cases through every processing command (each must refuse, not crash).
    for (const char* name : {"ztile0.fits", "zval0.fits", "zvalhuge.fits", "naxis2e32.fits", "dupnaxis.fits"}) {
        const std::string in = (dir / name).string(), out = (dir / "out.fits").string();
        for (auto args : std::vector<std::vector<std::string>>{{"register", in, "-o", out},
                                                               {"deconvolve", in, "--psf", test::real_file(kPlain).string(), "-o", out}}) {
            SCOPED_TRACE(args[0] + " " + name);
            auto r = test::run_aiaccel(args);
            EXPECT_EQ(r.exit_code, 2) << r.err;
            EXPECT_NE(r.err.find(in + ": "), std::string::npos) << r.err;
            EXPECT_FALSE(fs::exists(out));
        }
        SCOPED_TRACE(std::string("prep ") + name);
        auto r = test::run_aiaccel({"prep", in, "-o", (dir / "prep").string()});
        EXPECT_EQ(r.exit_code, 1) << r.err;  // prep: a failed input is listed, exit 1
        EXPECT_NE((r.out + r.err).find(in), std::string::npos) << r.out << r.err;
    }
}

TEST(FitsPrecheck, FifoIsRefusedWithoutBlocking) {
    test::ScratchDir dir;
    const fs::path fifo = dir / "pipe.fits";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_THROW((void)fits_precheck(fifo.string()), Error);
    auto r = test::run_aiaccel({"info", fifo.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(fifo.string() + ": is not a regular file"), std::string::npos) << r.err;
    auto reg = test::run_aiaccel({"register", fifo.string(), "-o", (dir / "o.fits").string()});
    EXPECT_EQ(reg.exit_code, 2) << reg.err;
    auto dev = test::run_aiaccel({"info", "/dev/zero"});
    EXPECT_EQ(dev.exit_code, 2);
    EXPECT_NE(dev.err.find("/dev/zero: is not a regular file"), std::string::npos) << dev.err;
}

TEST(FitsPrecheck, FlippedByteInRiceTileDataIsRefusedUnlessOptedOut) {
    test::ScratchDir dir;
    const FitsLayout l = fits_precheck(test::real_file(kRice).string());
    std::string f = slurp(test::real_file(kRice));
    const std::size_t at = l.data_start + l.data_bytes - 1000;  // inside the heap (RICE tile bytes)
    f[at] = static_cast<char>(f[at] ^ 0x10);
    const fs::path bad = dir / "flipped.fits";
    spit(bad, f);

    try {
        (void)read_fits(bad.string());
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::bad_value);
        EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    }
    FitsImage img = read_fits(bad.string(), {.verify_checksum = false, .refuse_mismatch = false});
    EXPECT_EQ(img.datasum, SumState::not_checked);

    // info: exit 0, shows the mismatch and warns on stderr; --no-verify-checksum skips the check.
    auto r = test::run_aiaccel({"info", "--json", bad.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"datasum\":\"MISMATCH\""), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
    auto rn = test::run_aiaccel({"info", "--no-verify-checksum", bad.string()});
    EXPECT_EQ(rn.exit_code, 0) << rn.err;
    EXPECT_NE(rn.out.find("DATASUM not checked"), std::string::npos) << rn.out;
    auto good = test::run_aiaccel({"info", test::real_file(kRice).string()});
    EXPECT_NE(good.out.find("DATASUM ok, CHECKSUM ok"), std::string::npos) << good.out;

    // Processing commands refuse it (exit 2) and read it with the flag (then fail later, or not, for other reasons).
    const std::string out = (dir / "o.fits").string();
    const std::string psf = test::real_file(kPlain).string();
    for (auto args :
         std::vector<std::vector<std::string>>{{"register", bad.string(), "-o", out}, {"deconvolve", bad.string(), "--psf", psf, "-o", out}}) {
        SCOPED_TRACE(args[0]);
        auto a = test::run_aiaccel(args);
        EXPECT_EQ(a.exit_code, 2) << a.err;
        EXPECT_NE(a.err.find(bad.string() + ": checksum mismatch"), std::string::npos) << a.err;
        args.push_back("--no-verify-checksum");
        auto b = test::run_aiaccel(args);
        EXPECT_EQ(b.err.find("checksum"), std::string::npos) << b.err;
    }
    auto p = test::run_aiaccel({"prep", bad.string(), "-o", (dir / "prep").string(), "--steps", "exposure"});
    EXPECT_EQ(p.exit_code, 1);
    EXPECT_NE((p.out + p.err).find("checksum mismatch"), std::string::npos) << p.out << p.err;
    auto pn = test::run_aiaccel({"prep", bad.string(), "-o", (dir / "prep2").string(), "--steps", "exposure", "--no-verify-checksum"});
    EXPECT_EQ((pn.out + pn.err).find("checksum mismatch"), std::string::npos) << pn.out << pn.err;
}

TEST(FitsPrecheck, GarbageDateObsIsRefusedAndNamesNoOutput) {
    test::ScratchDir dir;
    const fs::path in = crafted(dir, kRice, "date.fits", "DATE-OBS", "'garbage'");
    auto r = test::run_aiaccel({"info", in.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(in.string() + ": keyword DATE-OBS is not an ISO 8601 date-time ('garbage'"), std::string::npos) << r.err;
    auto p = test::run_aiaccel({"prep", in.string(), "-o", (dir / "out").string(), "--steps", "exposure"});
    EXPECT_EQ(p.exit_code, 1);
    EXPECT_NE((p.out + p.err).find("DATE-OBS"), std::string::npos) << p.out << p.err;
    if (fs::exists(dir / "out")) {
        for (auto& e : fs::directory_iterator(dir / "out")) EXPECT_EQ(e.path().filename().string().find("garbage"), std::string::npos);
    }
}
