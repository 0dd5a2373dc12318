// Backend registry: the explicit list of backends, each with a probe saying whether it runs here.
#include "validate/backend_registry.hpp"
#include "core/strings.hpp"

#include <array>
#include <fmt/format.h>

#include "core/error.hpp"
#include "fast/cpu/cpu_backend.hpp"
#include "fast/cuda/cuda_backend.hpp"
#include "fast/cuda/cuda_probe.hpp"
#include "reference/reference_backend.hpp"

namespace aiaccel::validate {
namespace {

const std::array<BackendEntry, 3> kBackends = {{
    {"reference", "faithful float64 port of aiapy (the ground truth)", &reference::probe, &reference::make_backend},
    {"cpu", "FFTW threads + vectorised loops + threads, float32 and float64", &cpu::probe, &cpu::make_backend},
    {"cuda", "cuFFT + fused kernels on an NVIDIA GPU, float64 and float32 (register in float64)", &cuda::probe, &cuda::make_backend},
}};

}  // namespace

std::span<const BackendEntry> all_backends() { return kBackends; }

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

}  // namespace aiaccel::validate
