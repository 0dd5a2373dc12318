// Host half of the CUDA PSF (aiapy.psf.psf 0.10.2 / calculate_psf 0.12.1, docs/algorithms.md §1): the
// spots and the core block come from fast/common/psf_spots.hpp (the CPU backend's, in aiapy's order,
// each with its exact window); here, per-tile lists of the spots whose windows touch a tile, so each GPU
// thread adds, for its pixel, the same spots in the same order as the CPU loop. Plain C++ (g++), tested
// without a GPU in tests/test_cuda_host.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"
#include "fast/common/psf_spots.hpp"

namespace aiaccel::cuda {

using cpu::psf_core;  // fast/common/psf_spots.hpp
using cpu::psf_spots;
using cpu::PsfCore;
using cpu::PsfSpot;

// Tiles of tile_rows × tile_cols pixels (row-major tile order) and, for each, the indices of the
// spots whose window intersects it, in spot order: CSR (offsets has tiles + 1 entries).
struct TileLists {
    std::size_t tile_rows = 0, tile_cols = 0, tiles_y = 0, tiles_x = 0;
    std::vector<std::uint32_t> offsets, spots;
};
TileLists psf_tile_lists(const std::vector<PsfSpot>& spots, std::size_t n, std::size_t tile_rows, std::size_t tile_cols);

inline constexpr std::size_t kPsfTileRows = 8, kPsfTileCols = 32;  // = the spike kernel's block shape

}  // namespace aiaccel::cuda
