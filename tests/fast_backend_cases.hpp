// Inputs and helpers shared by the backend tests (test_cpu_backend.cpp, test_cuda_backend.cpp, conformance_cases.cpp):
// the 171 Å reference PSF computed once, a 512² crop of the real 1600 Å frame with the matching PSF
// crop, bitwise equality, crops, a wall-clock timer and the list of PSF diffraction orders.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "core/image.hpp"

namespace aiaccel::test {

template <class F>
double seconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool bitwise_equal(const Image<double>& a, const Image<double>& b);
std::vector<int> all_orders();  // −100..100, aiapy's diffraction orders
Image<double> crop(const Image<double>& a, std::size_t r0, std::size_t c0, std::size_t rows, std::size_t cols);

const Image<double>& reference_psf_171();  // reference::psf(171), computed once per program (timing printed)

// A 512² crop of the real 1600 Å frame (on-disk region) and the matching centre crop of the PSF.
struct SmallCase {
    Image<double> img, psf;
};
const SmallCase& small_case();
SmallCase make_small_case(const Image<double>& psf_171);  // the same crops from a 4096² 171 Å PSF computed elsewhere

}  // namespace aiaccel::test
