// Bounds check of one RICE_1-compressed tile before CFITSIO decodes it.
// CFITSIO's Rice decoder (since 3.08) does no end-of-buffer checking inside a block: a crafted bit
// stream (a long run of zero bits, a block that claims more bits than the tile holds) makes it read
// past the tile's bytes and crash. This walks the same bit stream — first pixel raw, then per block
// of `blocksize` pixels an FS code followed by either nothing (all differences zero), raw pixels
// (FS = FSMAX) or Rice codes (unary high part + FS low bits) — counting bits only, and says whether
// the stream fits in its bytes. It never stores pixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace aiaccel {

// `bytes`: the tile's compressed bytes (its heap slice); `npix`: pixels in the tile; `bytepix`:
// 1, 2 or 4 (RICE BYTEPIX, the decoder variant); `blocksize`: RICE BLOCKSIZE (> 0).
// Returns the problem in a few words, or nothing when the stream is well formed.
std::optional<std::string> check_rice_tile(std::span<const std::uint8_t> bytes, std::size_t npix, int bytepix, int blocksize);

}  // namespace aiaccel
