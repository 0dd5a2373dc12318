// Reference PSF: exact-zero windowing is bitwise the dense loop; components sum to 1; numpy's sum
// tree is reproduced; unknown channels fail clearly; and the full PSF matches real aiapy's goldens
// (channels from $AIACCEL_PSF_CHANNELS: "171" in the fast suite, "all" in the slow suite).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.hpp"
#include "reference/numpy_sum.hpp"
#include "reference/psf_detail.hpp"
#include "reference/psf_reference.hpp"
#include "tests/golden_support.hpp"
#include "validate/golden_checks.hpp"
#include "validate/verdict.hpp"

using namespace aiaccel;
using namespace aiaccel::reference;

TEST(NumpySum, MatchesNumpy246BitForBit) {
    // a[i] = ((i·7919 mod 10007) − 5003)/7 · (1 + (i mod 13)/64); sums printed by numpy 2.4.6 np.sum.
    struct Case {
        std::size_t n;
        const char* hex;
    };
    for (Case c : {Case{7, "0x1.c36edb6db6db8p+7"}, Case{100, "0x1.c37892492492ap+8"}, Case{1000, "0x1.46b9b6db6db6cp+9"},
                   Case{100003, "-0x1.07c7db6db6d79p+11"}, Case{4096 * 4096, "0x1.0ca824924bb6ep+11"}}) {
        std::vector<double> a(c.n);
        for (std::size_t i = 0; i < c.n; ++i) a[i] = (double(long((i * 7919) % 10007) - 5003) / 7.0) * (1.0 + double(i % 13) / 64.0);
        EXPECT_EQ(numpy_sum(a.data(), a.size()), std::strtod(c.hex, nullptr)) << "n = " << c.n;
    }
}

TEST(PsfReference, WindowedEqualsDenseBitwise) {
    // Small grid, a spread of orders (incl. 0 and far ones that leave the grid), default and preflight widths.
    std::vector<int> orders = {-40, -7, -1, 0, 1, 2, 9, 40};
    for (bool preflight : {false, true})
        for (auto v : {AiapyVersion::v0_10_2, AiapyVersion::v0_12_1})
            for (auto which : {detail::PsfComponentKind::entrance, detail::PsfComponentKind::focal_plane}) {
                auto mi = detail::mesh_info(335, preflight);
                auto dense = detail::component(mi, which, orders, v, 256, false);
                auto win = detail::component(mi, which, orders, v, 256, true);
                for (std::size_t p = 0; p < dense.size(); ++p) ASSERT_EQ(win.data()[p], dense.data()[p]) << "pixel " << p;
            }
}

TEST(PsfReference, ComponentSumsToOneAndPeaksAtCentre) {
    for (auto v : {AiapyVersion::v0_10_2, AiapyVersion::v0_12_1}) {
        auto c = detail::component(detail::mesh_info(171, false), detail::PsfComponentKind::entrance, {-3, -2, -1, 0, 1, 2, 3}, v, 128, true);
        EXPECT_NEAR(numpy_sum(c.data(), c.size()), 1.0, 1e-15);
        std::size_t arg = std::max_element(c.data(), c.data() + c.size()) - c.data();
        EXPECT_EQ(arg, 64u * 128 + 64);
    }
}

// Orders ±m carry equal intensity, so each component is point-symmetric about the centre pixel
// (n/2, n/2): c[i][j] = c[n−i][n−j], up to the rounding of the spot centres.
TEST(PsfReference, ComponentsArePointSymmetric) {
    const std::size_t n = 256;
    for (auto which : {detail::PsfComponentKind::entrance, detail::PsfComponentKind::focal_plane}) {
        auto c = detail::component(detail::mesh_info(193, false), which, {-6, -5, -1, 0, 1, 5, 6}, AiapyVersion::v0_10_2, n, true);
        double peak = 0, worst = 0;
        for (std::size_t i = 1; i < n; ++i)
            for (std::size_t j = 1; j < n; ++j) {
                peak = std::max(peak, c(i, j));
                worst = std::max(worst, std::fabs(c(i, j) - c(n - i, n - j)));
            }
        EXPECT_LT(worst / peak, 1e-12);
    }
}

TEST(PsfReference, UnknownOrNonEuvChannelIsAnError) {
    for (int ch : {1600, 1700, 4500, 170, 0}) {
        try {
            (void)psf(ch);
            ADD_FAILURE() << ch;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::not_aia);
            EXPECT_NE(std::string(e.what()).find("94, 131, 171, 193, 211, 304, 335"), std::string::npos) << e.what();
        }
    }
}

namespace {
std::vector<std::string> golden_channels() {
    const char* env = std::getenv("AIACCEL_PSF_CHANNELS");
    std::string s = env ? env : "171";
    if (s == "all") return {"94", "131", "171", "193", "211", "304", "335", "171-preflight"};
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string t; std::getline(ss, t, ',');) out.push_back(t);
    return out;
}
}  // namespace

TEST(PsfReference, MatchesAiapyGoldens) {
    // The central crop (crop_center_<N>) and the 16×16 block sums of the whole frame, |ΣP − 1|, the
    // peak value and position: validate/golden_checks.hpp, judged with the tolerance table's rows.
    int checked = 0;
    for (const char* ver : {"0.10.2", "0.12.1"}) {
        for (const auto& ch : golden_channels()) {
            auto g = test::golden_item(ver, "psf:" + ch);
            if (!g) continue;
            SCOPED_TRACE(std::string("aiapy ") + ver + " psf:" + ch);
            PsfOptions opt;
            opt.version = *parse_aiapy_version(ver);
            opt.use_preflight_core = ch.find("preflight") != std::string::npos;
            Image<double> p = psf(std::stoi(ch), opt);
            const auto gc = validate::psf_vs_golden(p, *g, test::golden_store());
            const auto j = validate::judge(gc.measurement, "psf", validate::Against::aiapy, "reference", "f64");
            std::printf("[psf %s %s] %s\n", ver, ch.c_str(), gc.summary().c_str());
            EXPECT_EQ(j.verdict, validate::Verdict::passed) << ::testing::PrintToString(j.failed_texts()) << " " << j.note;
            EXPECT_TRUE(gc.measurement.problems.empty()) << gc.measurement.problems.front();
            EXPECT_EQ(gc.measurement.value("argmax_offset_px"), 0.0);
            ++checked;
        }
    }
    if (checked == 0) GTEST_SKIP() << "no PSF goldens present for the requested channels";
}
