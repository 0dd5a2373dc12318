// The inputs every speed measurement uses, loaded once per process: the real 2048×2048 level-1 file
// bundled in testdata/aia, the derived 4096×4096 input made from it (core/derived_input.hpp: 2×2
// pixel replication — labelled derived, NOT a real observation) and the 171 Å PSF for deconvolution.
// Also the peak-memory meter (/proc/self VmHWM, reset per measurement). Shared by the Google
// Benchmark programs (bench/bench_*.cpp) and `aiaccel bench` (bench/bench_runner.hpp).
#pragma once

#include <filesystem>
#include <string>

#include "core/aia_image.hpp"
#include "core/image.hpp"

namespace aiaccel::bench {

inline constexpr const char* kDerivedCase = "derived-4096";  // the derived 4096² input
inline constexpr const char* kRealCase = "real-2048";  // the real 2048² file it is made from
inline constexpr const char* kPsfCase = "psf-171";  // psf stage: one 4096² channel
inline constexpr int kPsfChannel = 171;
inline constexpr int kIterations = 25;  // Richardson–Lucy iterations (aiapy's default)

struct BenchInputs {
    std::filesystem::path real_path;  // testdata/aia/<kDerived1600Source>
    AiaImage real2048;  // as load_aia reads it
    AiaImage derived4096;  // derive_full_res_2x(real2048)
    Image<double> psf171;  // the cpu backend's float64 171 Å PSF (equal to the reference's within 1e-13)
    std::string derived_sha256;  // of derived4096's float64 pixels, little-endian, row-major (as numpy's tobytes())
};

// $AIACCEL_TESTDATA, else <source root>/testdata ($AIACCEL_ROOT or the configured source root).
std::filesystem::path testdata_dir();
// Loaded on first call (thread-safe); Error naming the file when the bundled input is missing.
const BenchInputs& inputs();
// One line describing the inputs, for notes and logs.
std::string describe_inputs();

// Peak resident memory since the last reset (VmHWM after writing "5" to /proc/self/clear_refs;
// the process's peak so far where the kernel cannot reset it), MiB. The reset first empties the frame
// pool (core/frame_pool), so blocks an earlier measurement left there count for none: each
// measurement's warm-up run pays its own first-touch page faults and its peak is its own.
void reset_peak_rss();
double peak_rss_mib();

}  // namespace aiaccel::bench
