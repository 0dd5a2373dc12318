// Host half of the CUDA PSF: per-tile spot lists (see psf_cuda_host.hpp). The spots and the core block
// are fast/common/psf_spots.cpp's, the ones the CPU backend sums, so both fast backends place the same
// Gaussians; the spike sum itself runs on the device (psf_cuda.cu).
#include "fast/cuda/psf_cuda_host.hpp"

namespace aiaccel::cuda {

TileLists psf_tile_lists(const std::vector<PsfSpot>& spots, std::size_t n, std::size_t tile_rows, std::size_t tile_cols) {
    TileLists t;
    t.tile_rows = tile_rows;
    t.tile_cols = tile_cols;
    t.tiles_y = (n + tile_rows - 1) / tile_rows;
    t.tiles_x = (n + tile_cols - 1) / tile_cols;
    const std::size_t tiles = t.tiles_y * t.tiles_x;
    std::vector<std::uint32_t> count(tiles, 0);
    auto for_tiles = [&](const PsfSpot& sp, auto&& f) {
        if (sp.r0 >= sp.r1 || sp.c0 >= sp.c1) return;  // entirely off the grid
        const std::size_t ty0 = std::size_t(sp.r0) / tile_rows, ty1 = std::size_t(sp.r1 - 1) / tile_rows;
        const std::size_t tx0 = std::size_t(sp.c0) / tile_cols, tx1 = std::size_t(sp.c1 - 1) / tile_cols;
        for (std::size_t ty = ty0; ty <= ty1; ++ty)
            for (std::size_t tx = tx0; tx <= tx1; ++tx) f(ty * t.tiles_x + tx);
    };
    for (const PsfSpot& sp : spots) for_tiles(sp, [&](std::size_t tile) { ++count[tile]; });
    t.offsets.assign(tiles + 1, 0);
    for (std::size_t i = 0; i < tiles; ++i) t.offsets[i + 1] = t.offsets[i] + count[i];
    t.spots.resize(t.offsets[tiles]);
    std::vector<std::uint32_t> fill(t.offsets.begin(), t.offsets.end() - 1);
    for (std::size_t s = 0; s < spots.size(); ++s)  // spot order within each tile
        for_tiles(spots[s], [&](std::size_t tile) { t.spots[fill[tile]++] = static_cast<std::uint32_t>(s); });
    return t;
}

}  // namespace aiaccel::cuda
