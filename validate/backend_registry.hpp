// The explicit list of backends (reference, cpu, cuda) with a probe saying whether each runs here.
#pragma once

#include <span>
#include <string_view>

#include "core/backend.hpp"

namespace aiaccel::validate {

std::span<const BackendEntry> all_backends();
// The entry with this name; Error(usage) listing the known names otherwise.
const BackendEntry& find_backend(std::string_view name);
// Makes the backend, or throws Error(usage) with the probe's reason when it is not available here.
std::unique_ptr<Backend> make_available_backend(std::string_view name);

}  // namespace aiaccel::validate
