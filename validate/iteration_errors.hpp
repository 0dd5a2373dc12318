// Richardson–Lucy's error against the reference after every iteration (docs/validation.md §2.2): a
// backend can agree with the reference after the last iteration and still wander on the way (RL's
// update is blind to the estimate's scale, so one iteration repairs a flux error of the one before).
#pragma once

#include <vector>

#include "core/backend.hpp"
#include "core/image.hpp"

namespace aiaccel::validate {

// max|Δ|/max of `got` against `ref` over the pixels finite in both, as compare() measures an image;
// NaN when the two differ in shape, in iteration or in which pixels are NaN.
double estimate_max_rel(const EstimateView& got, const EstimateView& ref);

// Runs `be` (on this thread) and the reference deconvolution (on a second thread) on `img` and `psf`
// side by side. They meet after every iteration, where estimate_max_rel of the two estimates is taken
// while both wait, so no iterate is stored (4096² × 25 float64 iterates would be 3.4 GB). The backend
// must declare StageCaps::estimates. FFTW's planner is not thread-safe: the backend starts only once
// the reference has made its plans and finished its first iteration, and the reference returns
// (destroying its plans) only after the backend has. Returns one value per iteration 1..iterations;
// rethrows what either run threw; Error(internal) when the backend reported another number of iterates.
std::vector<double> iteration_errors(Backend& be, const Image<double>& img, const Image<double>& psf, int iterations, const StageOptions& so);

}  // namespace aiaccel::validate
