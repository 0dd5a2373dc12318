// Availability: whether an optional part (a backend) can run here, and if not, why.
#pragma once

#include <string>

namespace aiaccel {

struct Availability {
    bool available = false;
    std::string reason;  // "available (…)" or why not, e.g. "cuda: built, but no device (…)"
};

}  // namespace aiaccel
