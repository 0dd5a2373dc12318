// Google Benchmark: the psf stage (aiapy's psf.calculate_psf / psf.psf)
// for each backend (reference, cpu, cuda) × precision × threads: one 4096² channel (171 Å), no input image.
// Run: build/bench/bench_psf [--benchmark_filter=cpu]. aiaccel bench times the same runs and writes result rows.
#include "bench/gbench_support.hpp"

namespace {
const int registered = [] {
    aiaccel::bench::register_stage("psf", {"reference", "cpu", "cuda"});
    return 0;
}();
}  // namespace

BENCHMARK_MAIN();
