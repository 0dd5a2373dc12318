// Google Benchmark: the floors each kernel is compared with — fftw-floor (and mkl-floor in builds with
// -Dmkl): that FFT provider alone doing the 100 r2c/c2r transforms of a 25-iteration Richardson–Lucy at
// 4096² with the cpu backend's cached plans (fast/cpu/fft_provider.hpp), float64 and float32, 1 and 2 threads; memcpy-floor: one copy of the 4096²
// (and 2048²) image, the memory-bandwidth bound of any single pass over it.
// Run: build/bench/bench_floors. aiaccel bench --stages floors times the same runs and writes rows.
#include "bench/gbench_support.hpp"
#include "fast/cpu/fft_provider.hpp"

namespace {
const int registered = [] {
    aiaccel::bench::register_stage("deconvolve", {aiaccel::bench::kFftwFloor});
    if (aiaccel::cpu::fft_provider_built(aiaccel::cpu::FftProvider::mkl)) aiaccel::bench::register_stage("deconvolve", {aiaccel::bench::kMklFloor});
    aiaccel::bench::register_stage("register", {aiaccel::bench::kMemcpyFloor});
    return 0;
}();
}  // namespace

BENCHMARK_MAIN();
