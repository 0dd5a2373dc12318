// Google Benchmark: the floors each kernel is compared with — fftw-floor: FFTW alone doing the 100
// r2c/c2r transforms of a 25-iteration Richardson–Lucy at 4096² with the cpu backend's cached plans
// (fast/cpu/fftw_cpu.hpp), float64 and float32, 1 and 2 threads; memcpy-floor: one copy of the 4096²
// (and 2048²) image, the memory-bandwidth bound of any single pass over it.
// Run: build/bench/bench_floors. aiaccel bench --stages floors times the same runs and writes rows.
#include "bench/gbench_support.hpp"

namespace {
const int registered = [] {
    aiaccel::bench::register_stage("deconvolve", {aiaccel::bench::kFftwFloor});
    aiaccel::bench::register_stage("register", {aiaccel::bench::kMemcpyFloor});
    return 0;
}();
}  // namespace

BENCHMARK_MAIN();
