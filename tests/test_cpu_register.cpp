// Fast CPU register (fast/cpu/register_cpu, spline_prefilter_cpu, affine_transform_cpu, fast/common/full_disk):
// what is specific to it. Its accuracy against the reference and exact answers, per precision and per
// Highway target, and its refusals are the conformance suite's (tests/test_conformance.cpp,
// cpu_register_*). Here: 1, 2 and 3 threads bit for bit, and the analytic full-disk check against the
// reference's pixel-by-pixel one on every bundled file and the derived 4096² input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "fast/common/full_disk.hpp"
#include "fast/cpu/register_cpu.hpp"
#include "fast/cpu/spline_prefilter_cpu.hpp"
#include "reference/register_reference.hpp"
#include "tests/register_cases.hpp"
#include "tests/test_support.hpp"
#include "validate/tolerances.hpp"

using namespace aiaccel;
using validate::Against;
namespace fs = std::filesystem;

namespace {

bool bitwise_equal(const Image<double>& a, const Image<double>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST(CpuRegister, OneAndTwoThreadsGiveTheSameBits) {
    const AiaImage in = load_aia(test::real_file(kDerived1600Source).string());
    for (Precision p : {Precision::f64, Precision::f32}) {
        const AiaImage a = cpu::register_image_cpu(in, {}, p, 1);
        const AiaImage b = cpu::register_image_cpu(in, {}, p, 2);
        const AiaImage c = cpu::register_image_cpu(in, {}, p, 3);
        EXPECT_TRUE(bitwise_equal(a.data, b.data)) << to_string(p);
        EXPECT_TRUE(bitwise_equal(a.data, c.data)) << to_string(p);
    }
    std::printf("[simd] spline kernels dispatched to %s\n", cpu::spline_prefilter_cpu_target());
}

TEST(CpuFullDisk, AgreesWithTheReferenceOnEveryBundledFile) {
    std::vector<AiaImage> inputs;
    for (const auto& entry : fs::directory_iterator(test::testdata() / "aia")) {
        if (entry.path().extension() != ".fits") continue;
        try {
            inputs.push_back(load_aia(entry.path().string()));
        } catch (const Error& e) { std::printf("[full-disk] skipped %s: %s\n", entry.path().filename().c_str(), e.what()); }
    }
    inputs.push_back(derive_full_res_2x(load_aia(test::real_file(kDerived1600Source).string())));
    inputs.push_back(test::synthetic_register_map(128, 20.0, 0.0));
    inputs.push_back(test::synthetic_register_map(128, 10.0, 0.0));
    inputs.push_back(test::synthetic_register_map(128, 14.0, 40.0));
    ASSERT_GE(inputs.size(), 6u);
    const double margin_bound = validate::tolerance("full_disk", "margin_arcsec_max", Against::reference, "cpu").bound;
    for (const AiaImage& img : inputs) {
        const reference::FullDiskCheck r = reference::contains_full_disk(img);
        const cpu::FullDiskResult c = cpu::contains_full_disk_cpu(img);
        std::printf("[full-disk] %s: %s, margin %.6f″ (reference %.6f″), %zu edge pixels on disk\n", img.path.c_str(),
                    c.full_disk ? "full disk" : "not full disk", c.margin_arcsec, r.margin_arcsec, c.edge_pixels_on_disk);
        EXPECT_EQ(c.full_disk, r.full_disk) << img.path;
        EXPECT_EQ(c.sun_centre_inside, r.sun_centre_inside) << img.path;
        EXPECT_EQ(c.edge_pixels_on_disk, r.edge_pixels_on_disk) << img.path;
        EXPECT_LE(std::fabs(c.margin_arcsec - r.margin_arcsec), margin_bound) << img.path;
    }
}
