// AIA channel table.
#include "core/channels.hpp"
#include "core/strings.hpp"

#include <array>
#include <cmath>

namespace aiaccel {

namespace {
constexpr std::array<Channel, 10> kChannels = {{
    {94, ChannelKind::euv},
    {131, ChannelKind::euv},
    {171, ChannelKind::euv},
    {193, ChannelKind::euv},
    {211, ChannelKind::euv},
    {304, ChannelKind::euv},
    {335, ChannelKind::euv},
    {1600, ChannelKind::uv},
    {1700, ChannelKind::uv},
    {4500, ChannelKind::visible},
}};
}

std::span<const Channel> all_channels() { return kChannels; }

std::optional<Channel> find_channel(double wavelength) {
    for (const auto& c : kChannels)
        if (std::fabs(wavelength - c.wavelength) < 1e-6) return c;
    return std::nullopt;
}

static std::string list(bool euv_only) {
    std::string s;
    for (const auto& c : kChannels) {
        if (euv_only && !c.has_psf()) continue;
        append_joined(s, ", ", std::to_string(c.wavelength));
    }
    return s;
}
std::string known_channels_text() { return list(false); }
std::string euv_channels_text() { return list(true); }

}  // namespace aiaccel
