// Bounds check of a RICE_1 tile's bit stream (see rice_check.hpp).
#include "core/rice_check.hpp"

#include <bit>
#include <fmt/format.h>

namespace aiaccel {

namespace {

// Reads a big-endian bit stream and counts what it consumes; every read is checked against the end.
class BitCursor {
public:
    BitCursor(std::span<const std::uint8_t> bytes) : bytes_(bytes), total_(bytes.size() * 8) {}

    // Takes n (<= 32) bits; false when the stream ends first.
    bool take(unsigned n, std::uint32_t& value) {
        if (n > total_ - pos_) return false;
        std::uint32_t v = 0;
        for (unsigned i = 0; i < n; ++i, ++pos_) v = (v << 1) | ((bytes_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u);
        value = v;
        return true;
    }
    bool skip(std::size_t n) {
        if (n > total_ - pos_) return false;
        pos_ += n;
        return true;
    }
    // Consumes zero bits up to and including the next one bit (a unary code); false at the end.
    bool unary() {
        while (pos_ < total_) {
            if ((pos_ & 7) == 0) {  // whole zero bytes at a time
                while (pos_ < total_ && bytes_[pos_ >> 3] == 0) pos_ += 8;
                if (pos_ >= total_) return false;
            }
            const bool one = (bytes_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u;
            ++pos_;
            if (one) return true;
        }
        return false;
    }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t total_, pos_ = 0;
};

}  // namespace

std::optional<std::string> check_rice_tile(std::span<const std::uint8_t> bytes, std::size_t npix, int bytepix, int blocksize) {
    unsigned fsbits = 0, fsmax = 0;
    switch (bytepix) {
        case 1:
            fsbits = 3;
            fsmax = 6;
            break;
        case 2:
            fsbits = 4;
            fsmax = 14;
            break;
        case 4:
            fsbits = 5;
            fsmax = 25;
            break;
        default: return fmt::format("RICE BYTEPIX {} (expected 1, 2 or 4)", bytepix);
    }
    if (blocksize <= 0) return fmt::format("RICE BLOCKSIZE {} (expected > 0)", blocksize);
    // The decoder reads the first pixel raw and then one byte of bits before looking at any count.
    if (bytes.size() < static_cast<std::size_t>(bytepix) + 1)
        return fmt::format("a RICE tile of {} bytes is shorter than its first pixel", bytes.size());
    BitCursor bits(bytes.subspan(static_cast<std::size_t>(bytepix)));
    const unsigned raw_bits = 8u * static_cast<unsigned>(bytepix);
    for (std::size_t i = 0; i < npix; i += static_cast<std::size_t>(blocksize)) {
        const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(blocksize), npix - i);
        std::uint32_t code = 0;
        if (!bits.take(fsbits, code)) return fmt::format("RICE stream ends inside the block at pixel {}", i);
        if (code == 0) continue;  // every difference in the block is zero
        const unsigned fs = code - 1;
        if (fs == fsmax) {
            if (!bits.skip(n * raw_bits)) return fmt::format("RICE stream ends inside the raw block at pixel {}", i);
        } else if (fs > fsmax) {
            return fmt::format("RICE block at pixel {} has split level {} (at most {})", i, fs, fsmax);
        } else {
            for (std::size_t k = 0; k < n; ++k)
                if (!bits.unary() || !bits.skip(fs)) return fmt::format("RICE stream ends inside pixel {}", i + k);
        }
    }
    return std::nullopt;
}

}  // namespace aiaccel
