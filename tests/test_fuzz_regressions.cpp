// Inputs found by the libFuzzer target (tools/fuzz, tests/fuzz/fits_fuzz_target.cpp), rebuilt from the
// real files at test time. Each must read or be refused with an aiaccel::Error — in-process (a forked
// child, so a crash fails one test, not the binary) and through `aiaccel info` (exit 2, one line).
#include <fitsio.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
namespace fs = std::filesystem;

namespace {

using test::slurp;
using test::spit;

// 32-bit ones' complement sum of big-endian words (FITS checksum arithmetic).
std::uint32_t ones_sum(const std::string& s, std::size_t from, std::size_t len, std::uint64_t sum = 0) {
    for (std::size_t i = from; i + 4 <= from + len; i += 4) {
        sum += (std::uint32_t(std::uint8_t(s[i])) << 24) | (std::uint32_t(std::uint8_t(s[i + 1])) << 16) |
            (std::uint32_t(std::uint8_t(s[i + 2])) << 8) | std::uint32_t(std::uint8_t(s[i + 3]));
        while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
    }
    return std::uint32_t(sum);
}

// Recomputes DATASUM/CHECKSUM of the HDU at [hstart, dstart + dlen) with CFITSIO's encoder, so the
// crafted bytes pass the checksum and reach the decoder.
void fix_checksum(std::string& s, std::size_t hstart, std::size_t dstart, std::size_t dlen) {
    const std::uint32_t ds = ones_sum(s, dstart, dlen);
    auto set_value = [&](const char* key, const std::string& v) {
        for (std::size_t c = hstart; c < dstart; c += 80) {
            if (s.compare(c, 8, std::string(key) + std::string(8 - std::strlen(key), ' ')) == 0) {
                std::string field = "'" + v + "'";
                field.resize(20, ' ');
                s.replace(c + 10, 20, field);
            }
        }
    };
    set_value("DATASUM", std::to_string(ds));
    set_value("CHECKSUM", "0000000000000000");
    char enc[17] = {0};
    ffesum(ones_sum(s, hstart, dstart - hstart, ds), 1, enc);
    set_value("CHECKSUM", enc);
}

// The child's verdict: 0 when read_fits returned or threw aiaccel::Error, 3 for another exception.
int read_in_child(const std::string& path) {
    try {
        (void)read_fits(path);
    } catch (const Error&) { return 0; } catch (...) {
        return 3;
    }
    return 0;
}

// CFITSIO's own checksum verification of HDU 2 (reads the bytes, decodes no tile).
bool cfitsio_checksums_ok(const fs::path& p) {
    fitsfile* f = nullptr;
    int status = 0, type = 0, dataok = 0, hduok = 0;
    if (fits_open_diskfile(&f, p.c_str(), READONLY, &status)) return false;
    fits_movabs_hdu(f, 2, &type, &status);
    fits_verify_chksum(f, &dataok, &hduok, &status);
    int close_status = 0;
    fits_close_file(f, &close_status);
    return status == 0 && dataok == 1 && hduok == 1;
}

void expect_clean(const fs::path& p) {
    EXPECT_EXIT(std::exit(read_in_child(p.string())), testing::ExitedWithCode(0), "") << p;
    auto r = test::run_aiaccel({"info", p.string()});
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 2) << "exit " << r.exit_code << ": " << r.err;
    if (r.exit_code == 2) {
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_NE(r.err.find(p.filename().string()), std::string::npos) << r.err;
    }
}

}  // namespace

// libFuzzer, seed = the first 32 KB of 20120606_040731_UTC.0041.fits: 8 bytes of the RICE heap
// (file offset 29478, tile data of an early row) set to 13 00 00 00 00 00 00 00 → CFITSIO 4.2's
// fits_rdecomp_short reads far past the tile buffer (SEGV). Whole file, checksum stale and recomputed.
TEST(FuzzRegression, RiceTileDataOverrunsDecoder) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    test::ScratchDir dir;
    std::string s = slurp(test::real_file("20120606_040731_UTC.0041.fits"));
    ASSERT_EQ(s.size(), 331200u);
    s.replace(29478, 8, std::string("\x13\0\0\0\0\0\0\0", 8));
    spit(dir / "rice_overrun_stale_checksum.fits", s);
    expect_clean(dir / "rice_overrun_stale_checksum.fits");
    fix_checksum(s, 2880, 23040, 308160);  // HDU 1: header 2880..23040, table + heap 308160 bytes
    spit(dir / "rice_overrun.fits", s);
    ASSERT_TRUE(cfitsio_checksums_ok(dir / "rice_overrun.fits"));  // the crafted stream, not a stale sum, is the problem
    expect_clean(dir / "rice_overrun.fits");
    spit(dir / "rice_overrun_32k.fits", s.substr(0, 32768));  // the fuzzer's own input shape
    expect_clean(dir / "rice_overrun_32k.fits");
}
