// Which aiapy release a faithful port reproduces where the releases differ (docs/algorithms.md §0.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aiaccel {

enum class AiapyVersion { v0_10_2, v0_12_1 };

inline constexpr AiapyVersion kDefaultAiapyVersion = AiapyVersion::v0_10_2;  // the pinned oracle

inline std::string_view to_string(AiapyVersion v) { return v == AiapyVersion::v0_10_2 ? "0.10.2" : "0.12.1"; }
inline std::optional<AiapyVersion> parse_aiapy_version(std::string_view s) {
    if (s == "0.10.2" || s == "0.10") return AiapyVersion::v0_10_2;
    if (s == "0.12.1" || s == "0.12" || s == "0.12.0") return AiapyVersion::v0_12_1;
    return std::nullopt;
}

}  // namespace aiaccel
