// Backend registry: the explicit list of backends, each with a probe saying whether it runs here.
// The cuda backend is a loadable module (fast/cuda/cuda_plugin.hpp) opened only by its probe or when
// it is selected, so listing the backends or running on the CPU never maps cudart/cuFFT.
#include "registry/backend_registry.hpp"
#include "core/strings.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <fmt/format.h>

#include "aiaccel_config.hpp"
#include "core/error.hpp"
#include "fast/cpu/cpu_backend.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "fast/cuda/cuda_plugin.hpp"
#include "reference/reference_backend.hpp"

namespace aiaccel::registry {
namespace fs = std::filesystem;
namespace {

#if AIACCEL_HAVE_CUDA
constexpr bool kCudaBuilt = true;
#else
constexpr bool kCudaBuilt = false;
#endif
constexpr const char* kNotBuilt = "cuda: not built (configure found no nvcc, or -Dcuda=disabled)";

// Where the module may be: $AIACCEL_CUDA_MODULE alone when set; else next to the running executable
// (an installed aiaccel), then <exe>/../fast/cuda/ (the build tree: apps/aiaccel and tests/test_*).
std::vector<fs::path> module_candidates() {
    if (const char* env = std::getenv("AIACCEL_CUDA_MODULE"); env && *env) return {fs::path(env)};
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    const fs::path dir = exe.parent_path();
    return {dir / cuda::kPluginFile, dir.parent_path() / "fast" / "cuda" / cuda::kPluginFile};
}

CudaModule load_module() {
    CudaModule m;
    if (!kCudaBuilt) {
        m.error = kNotBuilt;
        return m;
    }
    std::string looked;
    for (const fs::path& p : module_candidates()) {
        std::error_code ec;
        append_joined(looked, ", ", p.string());
        if (!fs::exists(p, ec)) continue;
        m.path = p.string();
        void* h = ::dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* why = ::dlerror();
            m.error = fmt::format("cannot load {} ({})", p.string(), why ? why : "dlopen failed");
            return m;
        }
        auto entry = reinterpret_cast<cuda::PluginEntryFn>(::dlsym(h, cuda::kPluginEntry));
        const cuda::PluginApi* api = entry ? entry() : nullptr;
        if (!api || api->abi != cuda::kPluginAbi || std::string_view(api->version) != AIACCEL_VERSION) {
            m.error = fmt::format("{} is not a matching aiaccel {} CUDA module (rebuild it)", p.string(), AIACCEL_VERSION);
            ::dlclose(h);
            return m;
        }
        m.api = api;  // the handle stays open for the life of the process
        return m;
    }
    m.error = fmt::format("the module {} was not found (looked in: {}; set AIACCEL_CUDA_MODULE)", cuda::kPluginFile, looked);
    return m;
}

// No NVIDIA driver device node: there is no device, and loading the module (cudart, cuFFT: some 300 MB
// of address space) would only say so. The module's own probe decides everywhere else.
bool no_nvidia_driver() {
    std::error_code ec;
    return !fs::exists("/dev/nvidiactl", ec) && !fs::exists("/dev/dxg", ec);
}

Availability cuda_probe() {
    if (!kCudaBuilt) return {false, kNotBuilt};
    if (no_nvidia_driver() && !std::getenv("AIACCEL_CUDA_MODULE"))
        return {false, "cuda: built, but no device (no NVIDIA driver: /dev/nvidiactl is absent)"};
    const CudaModule& m = cuda_module();
    if (!m.api) return {false, "cuda: built, but " + m.error};
    static const Availability a = m.api->probe();  // probes the device once per process
    return a;
}

std::unique_ptr<Backend> cuda_make() {
    const CudaModule& m = cuda_module();
    if (!m.api) throw Error(ErrorKind::usage, kCudaBuilt ? "cuda: " + m.error : std::string(kNotBuilt));
    return m.api->make();
}

// What each backend does, per stage (core/backend.hpp Capabilities): callers decide from these before
// running, never by a backend's name or by catching an error.
constexpr unsigned kOrders0to5 = 0x3fu;  // scipy's spline orders 0..5
constexpr Capabilities kReferenceCaps{
    .psf = {.f32 = false},
    .deconvolve = {.f32 = false, .progress = true, .estimates = true},
    .register_image = {.f32 = false, .spline_orders = kOrders0to5},
    .thread_safe = true,  // single-threaded ports with no shared state: one image per worker thread
    .device = "host",
};
constexpr Capabilities kCpuCaps{
    .psf = {.f32_computes_in_f64 = true},  // docs/algorithms.md §1.3: a float32 FFT PSF fails the sum check
    .deconvolve = {.progress = true, .estimates = true},
    .register_image = {.spline_orders = 1u << 3, .highway = true},  // aiapy's default order only; Highway kernels
    .thread_safe = false,  // each call uses every thread: callers serialise them
    .host_threads = true,
    .device = "host",
};
constexpr Capabilities kCudaCaps{
    .psf = {.f32_computes_in_f64 = true},
    .deconvolve = {.progress = true, .estimates = true},
    .register_image = {.f32_computes_in_f64 = true, .spline_orders = kOrders0to5},  // the kernels compute in float64
    .thread_safe = false,
    .device = "gpu",
};

std::string reference_fft(Precision) { return fmt::format("fftw {} (ESTIMATE plans)", cpu::fft_provider_version(cpu::FftProvider::fftw)); }
std::string cuda_fft(Precision) { return "cufft"; }

const std::array<BackendEntry, 3> kBackends = {{
    {"reference", "faithful float64 port of aiapy (the ground truth)", &reference::probe, &reference::make_backend, kReferenceCaps, &reference_fft},
    {"cpu", "FFTW or oneMKL (--fft) + vectorised loops + threads, float32 and float64", &cpu::probe, &cpu::make_backend, kCpuCaps, &cpu::fft_label},
    {"cuda", "cuFFT + fused kernels on an NVIDIA GPU, float64 and float32 (register in float64)", &cuda_probe, &cuda_make, kCudaCaps, &cuda_fft},
}};

}  // namespace

const CudaModule& cuda_module() {
    static const CudaModule m = load_module();
    return m;
}

std::span<const BackendEntry> all_backends() { return kBackends; }

std::string backend_fft(std::string_view backend, Precision p) {
    for (const auto& b : kBackends)
        if (b.name == backend) return b.fft ? b.fft(p) : std::string();
    return "";
}

const BackendEntry& find_backend(std::string_view name) {
    std::string known;
    for (const auto& b : kBackends) {
        if (b.name == name) return b;
        append_joined(known, ", ", b.name);
    }
    throw Error(ErrorKind::usage, fmt::format("unknown backend '{}' (known: {})", name, known));
}

std::unique_ptr<Backend> make_available_backend(std::string_view name) {
    const BackendEntry& e = find_backend(name);
    Availability a = e.probe();
    if (!a.available) throw Error(ErrorKind::usage, fmt::format("--backend {}: not available here: {}", name, a.reason));
    return e.make();
}

namespace {
bool g_probe_in_help = false;
}  // namespace

void set_probe_in_help(bool on) { g_probe_in_help = on; }

std::string help_status(const BackendEntry& e) {
    if (g_probe_in_help || e.name != "cuda") return e.probe().reason;
    return kCudaBuilt ? "cuda: built; probed when selected" : kNotBuilt;
}

}  // namespace aiaccel::registry
