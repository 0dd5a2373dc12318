// Host-side logic of the CUDA backend (see cuda_host.hpp): budgets, fit check, launch geometry, keys.
#include "fast/cuda/cuda_host.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#include <fmt/format.h>

#include "core/error.hpp"

namespace aiaccel::cuda {

std::size_t estimate_fft_workspace(std::size_t rows, std::size_t cols, Precision p) { return half_spectrum_elems(rows, cols) * 2 * real_bytes(p); }

Budget rl_budget(std::size_t rows, std::size_t cols, Precision p, bool buffers_allocated, bool h_cached) {
    const std::size_t n = rows * cols, ns = half_spectrum_elems(rows, cols), rb = real_bytes(p);
    Budget b;
    b.what = fmt::format("Richardson-Lucy {}x{} {}", cols, rows, to_string(p));
    if (!buffers_allocated)
        b.buffers += 3 * n * rb  // img, u, est
            + ns * 2 * rb  // spectrum
            + (p == Precision::f32 ? n * 8 : 0);  // f64 staging (upload, download)
    if (!h_cached) {
        b.buffers += n * 8 + ns * 16;  // transient while H is made: the rolled f64 PSF and its f64 spectrum
        b.resident = ns * 2 * rb;
    }
    // Loop plans in T (r2c + c2r) and, while H is made, an f64 r2c plan.
    if (!buffers_allocated) b.fft_workspace += 2 * estimate_fft_workspace(rows, cols, p);
    if (!h_cached) b.fft_workspace += estimate_fft_workspace(rows, cols, Precision::f64);
    return b;
}

Budget psf_budget(std::size_t n, std::size_t tile_list_entries, std::size_t core_elems) {
    Budget b;
    b.what = fmt::format("PSF {}x{} f64", n, n);
    const std::size_t ns = half_spectrum_elems(n, n);
    b.buffers = 2 * n * n * 8 + 2 * ns * 16 + tile_list_entries * 4 + core_elems * 8 + 4096;
    b.fft_workspace = 2 * estimate_fft_workspace(n, n, Precision::f64);
    return b;
}

Budget register_budget(std::size_t in_rows, std::size_t in_cols, std::size_t out_rows, std::size_t out_cols, bool nan_mask) {
    Budget b;
    b.what = fmt::format("register {}x{} -> {}x{}", in_cols, in_rows, out_cols, out_rows);
    const std::size_t in = in_rows * in_cols * 8;
    b.buffers = 2 * in + out_rows * out_cols * 8 + (nan_mask ? in : 0) + 64;
    return b;
}

std::string format_bytes(std::size_t bytes) {
    const double b = static_cast<double>(bytes);
    if (bytes >= (std::size_t(1) << 30)) return fmt::format("{:.2f} GiB", b / double(1 << 30));
    if (bytes >= (std::size_t(1) << 20)) return fmt::format("{:.1f} MiB", b / double(1 << 20));
    if (bytes >= (std::size_t(1) << 10)) return fmt::format("{:.1f} KiB", b / double(1 << 10));
    return fmt::format("{} B", bytes);
}

bool fits(const Budget& budget, std::size_t free_bytes) {
    const std::size_t usable = free_bytes > kDeviceReserveBytes ? free_bytes - kDeviceReserveBytes : 0;
    return budget.total() <= usable;
}

void require_fits(const Budget& budget, std::size_t free_bytes, const std::string& device) {
    if (fits(budget, free_bytes)) return;
    throw Error(ErrorKind::unsupported,
                fmt::format("cuda: {} needs {} of device memory ({} buffers, {} resident PSF transform, {} cuFFT work area) "
                            "but only {} is free on {} (less a {} reserve); use a smaller image, --backend cpu, "
                            "or free the device",
                            budget.what, format_bytes(budget.total()), format_bytes(budget.buffers), format_bytes(budget.resident),
                            format_bytes(budget.fft_workspace), format_bytes(free_bytes), device, format_bytes(kDeviceReserveBytes)));
}

Launch1d launch_1d(std::size_t count, unsigned threads, unsigned max_blocks) {
    if (count == 0 || threads == 0) return {0, threads};
    const std::size_t blocks = (count + threads - 1) / threads;
    return {static_cast<unsigned>(std::min<std::size_t>(blocks, max_blocks)), threads};
}

Launch2d launch_2d(std::size_t rows, std::size_t cols, unsigned bx, unsigned by) {
    const std::size_t gx = (cols + bx - 1) / bx, gy = (rows + by - 1) / by;
    if (gy > 65535 || gx > 0x7fffffffu)
        throw Error(ErrorKind::unsupported, fmt::format("cuda: a {}x{} image is beyond the kernels' launch grid", cols, rows));
    return {static_cast<unsigned>(gx), static_cast<unsigned>(gy), bx, by};
}

namespace {
inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v * 0x9E3779B97F4A7C15ull;
    h = std::rotl(h, 29) * 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
}
}  // namespace

namespace {
std::uint64_t hash_words(const double* p, std::size_t n) {
    std::uint64_t lane[4] = {0x243F6A8885A308D3ull, 0x13198A2E03707344ull, 0xA4093822299F31D0ull, 0x082EFA98EC4E6C89ull};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; ++k) lane[k] = mix(lane[k], std::bit_cast<std::uint64_t>(p[i + std::size_t(k)]));
    for (; i < n; ++i) lane[0] = mix(lane[0], std::bit_cast<std::uint64_t>(p[i]));
    std::uint64_t h = n;
    for (std::uint64_t l : lane) h = mix(h, l);
    return h;
}
}  // namespace

std::uint64_t content_hash(const Image<double>& img) {
    // A fixed split into chunks (the hash does not depend on the thread count), hashed in parallel:
    // a 4096² PSF is 128 MiB, read at memory speed by several cores instead of one.
    const std::size_t n = img.size(), chunks = n >= (std::size_t(1) << 20) ? 16 : 1;
    std::vector<std::uint64_t> part(chunks);
    auto run = [&](std::size_t c) { part[c] = hash_words(img.data() + n * c / chunks, n * (c + 1) / chunks - n * c / chunks); };
    if (chunks == 1) {
        run(0);
    } else {
        const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, chunks);
        std::vector<std::jthread> pool;
        for (std::size_t t = 1; t < threads; ++t)
            pool.emplace_back([&, t] {
                for (std::size_t c = t; c < chunks; c += threads) run(c);
            });
        for (std::size_t c = 0; c < chunks; c += threads) run(c);
    }
    std::uint64_t h = mix(mix(img.rows(), img.cols()), n);
    for (std::uint64_t p : part) h = mix(h, p);
    return h;
}

SpectrumKey spectrum_key(const Image<double>& psf, Precision p) { return {psf.rows(), psf.cols(), p, content_hash(psf)}; }

std::size_t PlanKeyHash::operator()(const PlanKey& k) const noexcept {
    return static_cast<std::size_t>(
        mix(mix(mix(k.rows, k.cols), (std::uint64_t(k.precision == Precision::f64) << 8) | std::uint64_t(k.kind)), std::uint64_t(k.slot)));
}
std::size_t SpectrumKeyHash::operator()(const SpectrumKey& k) const noexcept {
    return static_cast<std::size_t>(mix(mix(mix(k.rows, k.cols), std::uint64_t(k.precision == Precision::f64)), k.content));
}

std::array<CopyRect, 4> roll_half_copies(std::size_t rows, std::size_t cols) {
    const std::size_t hr = rows / 2, hc = cols / 2;
    std::array<CopyRect, 4> out{};
    for (std::size_t q = 0; q < 4; ++q) {
        const std::size_t sr = (q / 2) * hr, sc = (q % 2) * hc;
        out[q] = {sr, sc, (sr + hr) % rows, (sc + hc) % cols, hr, hc};
    }
    return out;
}

namespace {
std::mutex timing_mu;
std::map<std::string, StageTiming>& timings() {
    static std::map<std::string, StageTiming> t;
    return t;
}
}  // namespace

void record_timing(const std::string& stage, const StageTiming& t) {
    std::lock_guard lock(timing_mu);
    timings()[stage] = t;
}

void begin_timing(const std::string& stage) {
    StageTiming t;
    t.error = "the last call did not finish (it threw before its events were read)";
    record_timing(stage, t);
}

StageTiming last_timing(const std::string& stage) {
    std::lock_guard lock(timing_mu);
    auto it = timings().find(stage);
    return it == timings().end() ? StageTiming{} : it->second;
}

}  // namespace aiaccel::cuda
