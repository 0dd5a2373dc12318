// Google Benchmark glue shared by bench/bench_*.cpp: one benchmark per StageSpec (bench_stages.hpp),
// named stage/backend/precision/case/threads:N, timed in real time on the inputs of bench_inputs.hpp
// (loaded once, outside the timing). A run that cannot happen here (cuda without a device, a stage a
// backend does not provide yet) is SkipWithError with the reason. One untimed warm-up run absorbs FFTW
// planning, as `aiaccel bench` does. Counters: pixels/s (rate) and peak RSS MiB (VmHWM since the warm-up).
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_inputs.hpp"
#include "bench/bench_stages.hpp"
#include "core/error.hpp"

namespace aiaccel::bench {

inline void run_spec(benchmark::State& state, const StageSpec& spec) {
    PreparedRun p;
    try {
        p = prepare(spec);
        reset_peak_rss();
        p.run();  // warm-up, not timed
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    for (auto _ : state) p.run();
    state.counters["pixels/s"] = benchmark::Counter(p.pixels * double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["peak_RSS_MiB"] = peak_rss_mib();
    state.SetLabel(spec.case_name == kDerivedCase    ? "derived 4096^2 (2x2 replication of the real 2048^2 file)"
                       : spec.case_name == kRealCase ? "real 2048^2 file"
                                                     : "");
}

// Registers stage × backends × {f64, f32} × threads {1, 2} × the stage's cases. The reference is
// registered for f64 and one thread only (it is float64 and single-threaded).
inline void register_stage(const std::string& stage, const std::vector<std::string>& backends) {
    for (const auto& b : backends)
        for (Precision p : {Precision::f64, Precision::f32})
            for (int t : {1, 2}) {
                if (b == "reference" && (p != Precision::f64 || t != 1)) continue;
                if (b == "cuda" && t != 1) continue;
                if (!stage_has_precision(stage, p)) continue;
                for (const auto& c : stage_cases(stage)) {
                    StageSpec s{.stage = stage, .backend = b, .case_name = c, .precision = p, .threads = t};
                    auto* bm = benchmark::RegisterBenchmark(label(s).c_str(), [s](benchmark::State& st) { run_spec(st, s); });
                    bm->UseRealTime()->Unit(benchmark::kMillisecond);
                    if (b == "reference") bm->Iterations(1);  // minutes per run
                }
            }
}

}  // namespace aiaccel::bench
