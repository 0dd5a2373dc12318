// numpy's float64 summation, reproduced bit for bit: pairwise sum with 8 accumulators in blocks of
// at most 128 (numpy/_core/src/umath/loops_utils.h.src, pairwise_sum), applied either to the whole
// contiguous array (numpy >= 2.3, unbuffered reduction) or serially over 8192-element buffer chunks
// (numpy < 2.3 buffered reductions). docs/algorithms.md §7.3.
#pragma once

#include <cstddef>

namespace aiaccel::reference {

double numpy_pairwise_sum(const double* a, std::size_t n);

enum class NumpySumMode { whole_array, chunks_8192 };
double numpy_sum(const double* a, std::size_t n, NumpySumMode mode = NumpySumMode::whole_array);

}  // namespace aiaccel::reference
