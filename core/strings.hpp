// Small string helpers shared across modules.
#pragma once

#include <string>
#include <string_view>

namespace aiaccel {

// Appends `item` to a separator-joined list: "a" → "a, b".
inline void append_joined(std::string& list, std::string_view sep, std::string_view item) {
    if (!list.empty()) list.append(sep);
    list.append(item);
}

}  // namespace aiaccel
