// Host half of the CUDA PSF (aiapy.psf.psf 0.10.2 / calculate_psf 0.12.1, docs/algorithms.md §1): the
// diffraction spots in aiapy's order (orders outer, arms inner), the exact window of each Gaussian
// (outside it exp() is +0.0: fast/cpu/psf_cpu.hpp), per-tile lists of the spots whose windows touch a
// tile (so each GPU thread adds, for its pixel, the same spots in the same order as the CPU loop) and
// the small core block. Plain C++ (g++), tested without a GPU in tests/test_cuda_host.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/aiapy_version.hpp"
#include "core/image.hpp"
#include "fast/cpu/psf_cpu.hpp"  // MeshParams, Component

namespace aiaccel::cuda {

// One Gaussian spot as the kernel reads it: centre (x = column, y = row, in the version's rounding),
// intensity and its window [r0, r1) × [c0, c1) clipped to the grid.
struct PsfSpot {
    double cx, cy, intensity;
    std::int32_t r0, r1, c0, c1;
};
std::vector<PsfSpot> psf_spots(const cpu::MeshParams& mp, cpu::Component which, const std::vector<int>& orders, AiapyVersion v, std::size_t n,
                               bool windowed);

// Tiles of tile_rows × tile_cols pixels (row-major tile order) and, for each, the indices of the
// spots whose window intersects it, in spot order: CSR (offsets has tiles + 1 entries).
struct TileLists {
    std::size_t tile_rows = 0, tile_cols = 0, tiles_y = 0, tiles_x = 0;
    std::vector<std::uint32_t> offsets, spots;
};
TileLists psf_tile_lists(const std::vector<PsfSpot>& spots, std::size_t n, std::size_t tile_rows, std::size_t tile_cols);

// The core exp(−w r²) on its window, as psf_cpu computes it: the block, its first row/column and ΣC
// (row sums in row order).
struct PsfCore {
    Image<double> block;
    std::int64_t lo = 0;  // first row and column of the block
    double sum = 0;
};
PsfCore psf_core(const cpu::MeshParams& mp, AiapyVersion v, std::size_t n, bool windowed);

inline constexpr std::size_t kPsfTileRows = 8, kPsfTileCols = 32;  // = the spike kernel's block shape

}  // namespace aiaccel::cuda
