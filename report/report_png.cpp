// PNG encode/decode through libspng (0.7), and base64 for data: URIs.
#include "report/report_png.hpp"

#include <spng.h>

#include <cstdlib>
#include <fmt/format.h>
#include <memory>

#include "core/error.hpp"

namespace aiaccel::validate::report {
namespace {

struct CtxFree {
    void operator()(spng_ctx* c) const { spng_ctx_free(c); }
};
using Ctx = std::unique_ptr<spng_ctx, CtxFree>;

void check(int rc, const char* what) {
    if (rc) throw Error(ErrorKind::internal, fmt::format("PNG {}: {}", what, spng_strerror(rc)));
}

}  // namespace

std::vector<std::uint8_t> encode_png(const Raster& r) {
    if ((r.channels != 1 && r.channels != 3) || r.width == 0 || r.height == 0 || r.pixels.size() != r.width * r.height * std::size_t(r.channels))
        throw Error(ErrorKind::internal,
                    fmt::format("PNG encode: inconsistent raster {}x{}x{} with {} bytes", r.width, r.height, r.channels, r.pixels.size()));
    Ctx ctx(spng_ctx_new(SPNG_CTX_ENCODER));
    if (!ctx) throw Error(ErrorKind::internal, "PNG encode: out of memory");
    check(spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1), "encode");
    spng_ihdr ihdr{};
    ihdr.width = static_cast<std::uint32_t>(r.width);
    ihdr.height = static_cast<std::uint32_t>(r.height);
    ihdr.bit_depth = 8;
    ihdr.color_type = r.channels == 1 ? SPNG_COLOR_TYPE_GRAYSCALE : SPNG_COLOR_TYPE_TRUECOLOR;
    check(spng_set_ihdr(ctx.get(), &ihdr), "header");
    check(spng_encode_image(ctx.get(), r.pixels.data(), r.pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), "encode");
    std::size_t len = 0;
    int err = 0;
    void* buf = spng_get_png_buffer(ctx.get(), &len, &err);
    check(err, "buffer");
    std::unique_ptr<void, decltype(&std::free)> owned(buf, &std::free);
    const auto* b = static_cast<const std::uint8_t*>(buf);
    return {b, b + len};
}

Raster decode_png(std::span<const std::uint8_t> png) {
    Ctx ctx(spng_ctx_new(0));
    if (!ctx) throw Error(ErrorKind::internal, "PNG decode: out of memory");
    check(spng_set_png_buffer(ctx.get(), png.data(), png.size()), "decode");
    spng_ihdr ihdr{};
    check(spng_get_ihdr(ctx.get(), &ihdr), "header");
    Raster r;
    r.width = ihdr.width;
    r.height = ihdr.height;
    r.channels = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.bit_depth == 8 ? 1 : 3;
    const int fmt = r.channels == 1 ? SPNG_FMT_G8 : SPNG_FMT_RGB8;
    std::size_t len = 0;
    check(spng_decoded_image_size(ctx.get(), fmt, &len), "size");
    r.pixels.resize(len);
    check(spng_decode_image(ctx.get(), r.pixels.data(), len, fmt, 0), "decode");
    return r;
}

std::string base64(std::span<const std::uint8_t> in) {
    static constexpr char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        std::uint32_t v = (std::uint32_t(in[i]) << 16) | (std::uint32_t(in[i + 1]) << 8) | in[i + 2];
        for (int s : {18, 12, 6, 0}) out += abc[(v >> s) & 63];
    }
    if (std::size_t rest = in.size() - i; rest) {
        std::uint32_t v = std::uint32_t(in[i]) << 16;
        if (rest == 2) v |= std::uint32_t(in[i + 1]) << 8;
        out += abc[(v >> 18) & 63];
        out += abc[(v >> 12) & 63];
        out += rest == 2 ? abc[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string png_data_uri(std::span<const std::uint8_t> png) { return "data:image/png;base64," + base64(png); }
std::string png_data_uri(const Raster& r) { return png_data_uri(encode_png(r)); }

}  // namespace aiaccel::validate::report
