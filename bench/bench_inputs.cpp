// Loading the speed-measurement inputs once (see bench_inputs.hpp) and the peak-memory meter.
#include "bench/bench_inputs.hpp"

#include <sys/resource.h>

#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <mutex>

#include "aiaccel_config.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "core/frame_pool.hpp"
#include "core/sha256.hpp"
#include "fast/cpu/psf_cpu.hpp"

namespace aiaccel::bench {
namespace fs = std::filesystem;

fs::path testdata_dir() {
    if (const char* t = std::getenv("AIACCEL_TESTDATA"); t && *t) return t;
    if (const char* r = std::getenv("AIACCEL_ROOT"); r && *r) return fs::path(r) / "testdata";
    return fs::path(AIACCEL_SOURCE_ROOT) / "testdata";
}

const BenchInputs& inputs() {
    static BenchInputs in;
    static std::once_flag once;
    std::call_once(once, [] {
        in.real_path = testdata_dir() / "aia" / kDerived1600Source;
        in.real2048 = load_aia(in.real_path.string());
        in.derived4096 = derive_full_res_2x(in.real2048);
        in.psf171 = cpu::psf_cpu(kPsfChannel, false, kDefaultAiapyVersion, 0);
        const auto& d = in.derived4096.data;
        in.derived_sha256 = sha256_hex(d.data(), d.size() * sizeof(double));
    });
    return in;
}

std::string describe_inputs() {
    return fmt::format(
        "{}: the real 2048x2048 file {}; {}: its 2x2 pixel replication to 4096x4096 ({}, NOT a real observation); "
        "deconvolve PSF: aiaccel cpu 171 A",
        kRealCase, kDerived1600Source, kDerivedCase, kDerived1600Label);
}

void reset_peak_rss() {
    frame_pool_release();
    std::ofstream("/proc/self/clear_refs") << "5";
}

double peak_rss_mib() {
    std::ifstream st("/proc/self/status");
    for (std::string line; std::getline(st, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

}  // namespace aiaccel::bench
