// numpy pairwise summation (see numpy_sum.hpp). Written from the algorithm's description.
#include "reference/numpy_sum.hpp"

#include <algorithm>

namespace aiaccel::reference {

double numpy_pairwise_sum(const double* a, std::size_t n) {
    constexpr std::size_t block = 128;
    if (n < 8) {
        double res = 0.0;
        for (std::size_t i = 0; i < n; ++i) res += a[i];
        return res;
    }
    if (n <= block) {
        double r[8];
        for (int j = 0; j < 8; ++j) r[j] = a[j];
        std::size_t i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; ++j) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) res += a[i];
        return res;
    }
    std::size_t n2 = n / 2;
    n2 -= n2 % 8;
    return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

double numpy_sum(const double* a, std::size_t n, NumpySumMode mode) {
    if (mode == NumpySumMode::whole_array) return 0.0 + numpy_pairwise_sum(a, n);
    double acc = 0.0;
    for (std::size_t i = 0; i < n; i += 8192) acc += numpy_pairwise_sum(a + i, std::min<std::size_t>(8192, n - i));
    return acc;
}

}  // namespace aiaccel::reference
