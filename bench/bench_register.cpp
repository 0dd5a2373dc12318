// Google Benchmark: the register stage (aiapy's calibrate.register)
// for each backend (reference, cpu, cuda) × precision × threads on the real-derived input and the real file.
// Run: build/bench/bench_register [--benchmark_filter=cpu]. aiaccel bench times the same runs and writes result rows.
#include "bench/gbench_support.hpp"

namespace {
const int registered = [] {
    aiaccel::bench::register_stage("register", {"reference", "cpu", "cuda"});
    return 0;
}();
}  // namespace

BENCHMARK_MAIN();
