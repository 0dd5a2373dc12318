// The AIA channels (wavelength in Å) and what each supports. Mirrors aiapy's channel lists
// (aiapy.psf / aiapy.utils validate_channel): PSF parameters exist only for the seven EUV channels.
#pragma once

#include <optional>
#include <span>
#include <string>

namespace aiaccel {

enum class ChannelKind { euv, uv, visible };

struct Channel {
    int wavelength;  // Å, as in WAVELNTH
    ChannelKind kind;
    bool has_psf() const { return kind == ChannelKind::euv; }
};

std::span<const Channel> all_channels();  // 94, 131, 171, 193, 211, 304, 335, 1600, 1700, 4500
std::optional<Channel> find_channel(double wavelength);  // exact integer match, else nullopt
std::string known_channels_text();  // "94, 131, ... 4500"
std::string euv_channels_text();  // "94, 131, 171, 193, 211, 304, 335"

}  // namespace aiaccel
