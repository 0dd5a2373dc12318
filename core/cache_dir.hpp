// Where aiaccel keeps what it can recompute (reference outputs of `validate`, PSFs, FFTW wisdom):
// $XDG_CACHE_HOME/aiaccel, else ~/.cache/aiaccel; empty when neither is set.
#pragma once

#include <cstdlib>
#include <filesystem>

namespace aiaccel {

inline std::filesystem::path cache_root() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && *xdg) return std::filesystem::path(xdg) / "aiaccel";
    const char* home = std::getenv("HOME");
    if (home && *home) return std::filesystem::path(home) / ".cache" / "aiaccel";
    return {};
}

}  // namespace aiaccel
