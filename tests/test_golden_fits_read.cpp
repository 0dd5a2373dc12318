// What we read equals what astropy (as pinned in tools/oracle) reads, bit for bit: dtype, shape,
// NaN count, sampled pixels, the sha256 of the whole array in its dtype, and header values.
// Golden: testdata/golden/fits_read.json (tools/oracle/golden_fits_read.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/fits_io.hpp"
#include "core/sha256.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
using nlohmann::json;

namespace {

double golden_double(const json& v) {
    if (v.is_object()) return std::strtod(v.at("hex").get<std::string>().c_str(), nullptr);
    return v.get<double>();
}

// sha256 of the array as little-endian bytes of its dtype (numpy's tobytes on x86-64).
std::string sha256_in_dtype(const Image<double>& img, PixelType t) {
    Sha256 s;
    for (double v : img.pixels()) {
        switch (t) {
            case PixelType::f32: {
                float f = static_cast<float>(v);
                s.update(&f, 4);
                break;
            }
            case PixelType::f64: s.update(&v, 8); break;
            case PixelType::i16: {
                std::int16_t i = static_cast<std::int16_t>(v);
                s.update(&i, 2);
                break;
            }
            case PixelType::i32: {
                std::int32_t i = static_cast<std::int32_t>(v);
                s.update(&i, 4);
                break;
            }
            case PixelType::u8: {
                std::uint8_t i = static_cast<std::uint8_t>(v);
                s.update(&i, 1);
                break;
            }
        }
    }
    return s.hex();
}

json load_golden() {
    std::ifstream in(test::testdata() / "golden" / "fits_read.json");
    if (!in) throw std::runtime_error("testdata/golden/fits_read.json is missing");
    return json::parse(in);
}

}  // namespace

TEST(GoldenFitsRead, EveryRealFileMatchesAstropyBitForBit) {
    json g = load_golden();
    ASSERT_GE(g.at("files").size(), 5u);
    for (auto& [name, f] : g.at("files").items()) {
        SCOPED_TRACE(name);
        const json& a = f.at("astropy");
        FitsImage img = read_fits(test::real_file(name).string());
        EXPECT_EQ(std::string(to_string(img.dtype)), a.at("dtype_name").get<std::string>());
        EXPECT_EQ(img.hdu, f.at("image_hdu").get<int>());
        EXPECT_EQ(img.compressed, f.at("tile_compressed").get<bool>());
        ASSERT_EQ(img.data.rows(), a.at("shape")[0].get<std::size_t>());
        ASSERT_EQ(img.data.cols(), a.at("shape")[1].get<std::size_t>());
        std::size_t nans = 0;
        for (double v : img.data.pixels()) nans += std::isnan(v);
        EXPECT_EQ(nans, a.at("n_nan").get<std::size_t>());
        for (const auto& p : a.at("pixels")) {
            double want = golden_double(p);
            double got = img.data(p.at("row").get<std::size_t>(), p.at("col").get<std::size_t>());
            if (std::isnan(want))
                EXPECT_TRUE(std::isnan(got));
            else
                EXPECT_EQ(got, want) << "pixel (" << p.at("row") << ", " << p.at("col") << ")";
        }
        EXPECT_EQ(sha256_in_dtype(img.data, img.dtype), a.at("sha256_le").get<std::string>()) << "array differs from astropy's";
        for (auto& [key, v] : f.at("header").items()) {
            if (key.rfind("NAXIS", 0) == 0) continue;  // structural: regenerated, not stored
            SCOPED_TRACE(key);
            if (v.is_string())
                EXPECT_EQ(img.header.get_string(key).value_or("<absent>"), v.get<std::string>());
            else
                EXPECT_EQ(img.header.get_double(key).value_or(NAN), golden_double(v));
        }
    }
}
