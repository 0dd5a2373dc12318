// See fast_backend_cases.hpp.
#include "tests/fast_backend_cases.hpp"

#include <cstdio>
#include <cstring>

#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "reference/psf_reference.hpp"
#include "tests/test_support.hpp"

namespace aiaccel::test {

bool bitwise_equal(const Image<double>& a, const Image<double>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::vector<int> all_orders() {
    std::vector<int> o;
    for (int m = -100; m <= 100; ++m) o.push_back(m);
    return o;
}

Image<double> crop(const Image<double>& a, std::size_t r0, std::size_t c0, std::size_t rows, std::size_t cols) {
    Image<double> out(rows, cols);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) out(i, j) = a(r0 + i, c0 + j);
    return out;
}

const Image<double>& reference_psf_171() {
    static const Image<double> p = [] {
        Image<double> r;
        std::printf("[timing] psf 171 reference: %.2f s\n", seconds([&] { r = reference::psf(171); }));
        return r;
    }();
    return p;
}

SmallCase make_small_case(const Image<double>& psf_171) {
    const AiaImage src = load_aia(real_file(kDerived1600Source).string());
    return SmallCase{crop(src.data, 1024, 768, 512, 512), crop(psf_171, 2048 - 256, 2048 - 256, 512, 512)};
}

const SmallCase& small_case() {
    static const SmallCase c = make_small_case(reference_psf_171());
    return c;
}

}  // namespace aiaccel::test
