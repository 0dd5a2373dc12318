// prep_batch_maker: writes the test batch of `aiaccel prep` from the real bundled AIA files, with the
// library's own FITS writer (core/fits_io): N good level-1 copies whose DATE-OBS/T_OBS are shifted by
// 12 s per copy (so every output name differs; pixels untouched), plus three corrupt files — one
// truncated, one not AIA (INSTRUME HMI), one without DATE-OBS. Used by tests/test_prep_batch.sh, the
// Slurm test and tools/bench/prep-throughput.
//   prep_batch_maker TESTDATA_AIA OUTDIR [--full-disk-2048 K] [--count N] [--no-corrupt] [--derived-euv M]
//                    [--derived-int16 L]
// --derived-euv M adds M 4096x4096 files for timing level 1.6 only: the DERIVED 2x2 replication of the
// 2048² 1600 Å frame (core/derived_input.hpp) relabelled WAVELNTH 171 so that aiapy's deconvolve
// accepts it — NOT an observation (DERIVED keyword, HISTORY and a COMMENT say so); the cost of
// PSF + Richardson-Lucy + register does not depend on the pixel values.
// --derived-int16 L adds L 4096x4096 level-1 files as JSOC stores them, for timing level 1.5 at full
// resolution: the same DERIVED 2x2 replication of the 2048² 1600 Å frame (still 1600 Å), as int16
// counts with BLANK -32768 (core/derived_input.hpp derive_int16_counts), RICE tile-compressed one
// row per tile — NOT an observation (DERIVED keyword, two HISTORY lines and a COMMENT say so).
// Their DATE-OBS are shifted by 12 s per copy plus 6 s, so they never share an output name with the
// 2048² copies.
// Good copies: K (default 4) of the 2048x2048 1600 Å full disk (stored RICE-compressed, quantised as
// JSOC does for floats), the rest of the 128x128 binned 171 Å full disk (uncompressed float64).
// Both contain the full disk, so register accepts them. Prints one line per file written.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <string>

#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"

namespace fs = std::filesystem;
using namespace aiaccel;

namespace {

// "2011-02-15T00:00:00.34" + seconds, keeping the fractional part as written.
std::string shift_time(const std::string& t, long seconds) {
    std::tm tm{};
    int y, mo, d, h, mi, s;
    if (std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6)
        throw Error(ErrorKind::bad_value, fmt::format("cannot parse time '{}'", t));
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
    std::time_t when = timegm(&tm) + seconds;
    std::tm out{};
    gmtime_r(&when, &out);
    const auto dot = t.find('.');
    std::string frac = dot == std::string::npos ? "" : t.substr(dot);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", out.tm_year + 1900, out.tm_mon + 1, out.tm_mday, out.tm_hour, out.tm_min, out.tm_sec,
                       frac);
}

void write_copy(const AiaImage& src, const fs::path& out, long shift, Compression c, std::optional<long long> blank = {}) {
    FitsHeader h = src.header;
    for (const char* key : {"DATE-OBS", "T_OBS"})
        if (auto v = h.get_string(key)) h.set_string(key, shift_time(*v, shift));
    WriteOptions wo;
    wo.dtype = src.dtype == PixelType::f32 ? PixelType::f32 : src.dtype == PixelType::i16 ? PixelType::i16 : PixelType::f64;
    wo.compression = c;
    wo.add_history = false;
    wo.blank = blank;
    write_fits(out, src.data, h, wo);
    fmt::print("{}\n", out.string());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        fmt::print(
            stderr,
            "usage: prep_batch_maker TESTDATA_AIA OUTDIR [--full-disk-2048 K] [--count N] [--no-corrupt] [--derived-euv M] [--derived-int16 L]\n");
        return 2;
    }
    const fs::path data = argv[1], outdir = argv[2];
    int count = 50, big = 4, derived = 0, derived16 = 0;
    bool corrupt = true;
    for (int i = 3; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--count" && i + 1 < argc)
            count = std::stoi(argv[++i]);
        else if (a == "--full-disk-2048" && i + 1 < argc)
            big = std::stoi(argv[++i]);
        else if (a == "--no-corrupt")
            corrupt = false;
        else if (a == "--derived-euv" && i + 1 < argc)
            derived = std::stoi(argv[++i]);
        else if (a == "--derived-int16" && i + 1 < argc)
            derived16 = std::stoi(argv[++i]);
        else {
            fmt::print(stderr, "prep_batch_maker: unknown argument {}\n", a);
            return 2;
        }
    }
    try {
        fs::create_directories(outdir);
        const AiaImage small = load_aia((data / "aia_171_level1.fits").string());
        const AiaImage large = big > 0 || derived > 0 || derived16 > 0 ? load_aia((data / kDerived1600Source).string()) : AiaImage{};
        if (derived16 > 0) {
            AiaImage d = derive_int16_counts(derive_full_res_2x(large));
            d.header.add_comment("aiaccel timing input: 4096x4096 int16 RICE level-1 file derived from a 2048x2048 one; not an observation");
            for (int k = 0; k < derived16; ++k)
                write_copy(d, outdir / fmt::format("derived1600_int16_{:03}.fits", k), 12L * k + 6, Compression::rice, -32768);
        }
        if (derived > 0) {
            AiaImage d = derive_full_res_2x(large);
            d.header.set_double("WAVELNTH", 171);
            d.header.set_string("WAVE_STR", "171_THIN");
            d.header.add_comment("aiaccel timing input: 1600 A pixels relabelled 171 A; not an observation");
            for (int k = 0; k < derived; ++k) write_copy(d, outdir / fmt::format("derived171_{:03}.fits", k), 12L * k, Compression::rice);
        }
        for (int k = 0; k < count; ++k) {
            const bool is_big = k < big;
            write_copy(is_big ? large : small, outdir / fmt::format("{}_{:03}.fits", is_big ? "aia1600" : "aia171", k), 12L * k,
                       is_big ? Compression::rice : Compression::none);
        }
        if (corrupt && count > big) {
            // 1. truncated: the first half of a good copy (a transfer cut short).
            const fs::path whole = outdir / fmt::format("aia171_{:03}.fits", big);  // the first 128² copy
            std::ifstream in(whole, std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            std::ofstream(outdir / "corrupt_truncated.fits", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
            fmt::print("{}\n", (outdir / "corrupt_truncated.fits").string());
            // 2. not AIA: an HMI header on the same pixels.
            AiaImage hmi = small;
            hmi.header.set_string("INSTRUME", "HMI_FRONT2");
            hmi.header.set_string("TELESCOP", "SDO/HMI");
            write_copy(hmi, outdir / "corrupt_not_aia.fits", 100000, Compression::none);
            // 3. missing keyword: no DATE-OBS (nor T_OBS / DATE_OBS to fall back on).
            AiaImage nodate = small;
            for (const char* key : {"DATE-OBS", "T_OBS", "DATE_OBS"}) nodate.header.erase(key);
            write_copy(nodate, outdir / "corrupt_no_date_obs.fits", 0, Compression::none);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "prep_batch_maker: {}\n", e.what());
        return 1;
    }
    return 0;
}
