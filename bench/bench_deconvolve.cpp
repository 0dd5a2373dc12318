// Google Benchmark: the deconvolve stage (aiapy's psf.deconvolve, 25 iterations)
// for each backend (reference, cpu, cuda) × precision × threads on the real-derived input.
// Run: build/bench/bench_deconvolve [--benchmark_filter=cpu]. aiaccel bench times the same runs and writes result rows.
#include "bench/gbench_support.hpp"

namespace {
const int registered = [] {
    aiaccel::bench::register_stage("deconvolve", {"reference", "cpu", "cuda"});
    return 0;
}();
}  // namespace

BENCHMARK_MAIN();
