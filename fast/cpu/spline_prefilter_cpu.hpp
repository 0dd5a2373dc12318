// Order-3 B-spline prefilter of a 2-D array, fast CPU path: the filter scipy.ndimage.spline_filter
// applies before affine_transform (scipy 1.15–1.17 ni_splines.c: gain, mirror-boundary causal and
// anti-causal recursions with the pole √3 − 2; docs/algorithms.md §3.4), along every row (x) and then
// every column (y) of the image. The recursions run on several lines at once, one line per SIMD lane
// (Google Highway, dispatched at run time), so the arithmetic of each line is the scalar filter's,
// operation for operation; the column pass walks memory row by row.
#pragma once

#include <cstddef>

namespace aiaccel::cpu {

// In place on a rows×cols row-major array. `all_finite`: the data hold no NaN/±inf, which lets the
// causal initialisation stop where the pole's powers underflow to zero (later terms add exactly 0;
// with a non-finite sample they would add NaN, so the full sum is taken). Lines of length 1 are left
// untouched, as scipy leaves them. Results do not depend on `threads`.
void spline_prefilter_order3_cpu(double* data, std::size_t rows, std::size_t cols, bool all_finite, int threads);
void spline_prefilter_order3_cpu(float* data, std::size_t rows, std::size_t cols, bool all_finite, int threads);

// The name of the instruction set the dispatcher picked on this machine (e.g. "AVX3", "AVX2").
const char* spline_prefilter_cpu_target();

}  // namespace aiaccel::cpu
