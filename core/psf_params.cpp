// PSF parameter table (see psf_params.hpp).
#include "core/psf_params.hpp"

#include <fmt/format.h>

#include "core/channels.hpp"
#include "core/error.hpp"

namespace aiaccel {

const PsfChannelParams& psf_params(int channel) {
    static constexpr std::array<PsfChannelParams, 7> rows = {{
        {94, {49.81, 40.16, -40.28, -49.92}, 8.99, 0.207, 0.951},
        {131, {50.27, 40.17, -39.70, -49.95}, 12.37, 0.289, 1.033},
        {171, {49.81, 39.57, -40.13, -50.38}, 16.26, 0.377, 0.962},
        {193, {49.82, 39.57, -40.12, -50.37}, 18.39, 0.425, 1.512},
        {211, {49.78, 40.08, -40.34, -49.95}, 19.97, 0.465, 1.199},
        {304, {49.76, 40.18, -40.14, -49.90}, 28.87, 0.670, 1.247},
        {335, {50.40, 39.80, -39.64, -50.25}, 31.83, 0.738, 0.962},
    }};
    for (const auto& r : rows)
        if (r.channel == channel) return r;
    throw Error(ErrorKind::not_aia,
                fmt::format("no PSF for channel {} Å: aiapy defines the PSF only for the EUV channels {} Å", channel, euv_channels_text()));
}

}  // namespace aiaccel
