// The conformance suite's own cases (tests/test_conformance.cpp), beyond validate's quick set, each
// judged as validate judges a row (validate::measure_pair + the tolerance table):
//  * deconvolve: a 512² crop of the real 1600 Å frame through 25 Richardson–Lucy iterations against
//    the reference (zeros stay exactly zero), and aiapy's input contract (0 iterations = the clipped
//    input; a PSF of another shape or an odd size refused);
//  * register: the synthetic rotations of tests/register_cases.hpp whose spline order the backend
//    declares, the register header keys equal to the reference's, and the refusals (a cut-out with the
//    reference's message; integer data with a non-integer missing value).
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>

#include "core/backend.hpp"

namespace aiaccel::test {

// One test of the suite: a backend × stage × precision × Highway target (0: the stage has no Highway kernels).
struct Combo {
    const BackendEntry* backend = nullptr;
    Stage stage = Stage::psf;
    Precision precision = Precision::f64;
    int64_t target = 0;
};
void PrintTo(const Combo& c, std::ostream* os);  // gtest's description of a parameter

// The folder of the reference outputs for the whole program (a validate::ReferenceCache), so each
// reference run is computed once.
const std::filesystem::path& reference_cache_dir();

// Runs the suite's own cases of `c.stage` on `be` (not the reference) with gtest expectations.
void extra_cases(const Combo& c, Backend& be);

}  // namespace aiaccel::test
