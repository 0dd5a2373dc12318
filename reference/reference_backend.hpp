// The reference implementation behind the Backend seam (float64 only).
#pragma once

#include <memory>

#include "core/backend.hpp"

namespace aiaccel::reference {

std::unique_ptr<Backend> make_backend();
Availability probe();

}  // namespace aiaccel::reference
