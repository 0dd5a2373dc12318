// The one tolerance table: stage × comparison × precision → bound, each with its reason
// (DESIGN.md, ALGORITHMS.md §8). Tests and reports read bounds from here; nobody writes them inline.
#pragma once

#include <span>
#include <string_view>

namespace aiaccel::validate {

enum class Against { aiapy, reference };  // what the result is compared with

struct Tolerance {
    std::string_view stage;      // "psf", "deconvolve", "register", ...
    std::string_view metric;     // "max_abs_over_max", "rel_l2", "sum_minus_1", "bitwise_fraction_min", "edge_flips_max"
    Against against;
    std::string_view backend;    // "reference", "cpu", "cuda"
    std::string_view precision;  // "f64", "f32"
    double bound;
    std::string_view reason;
};

std::span<const Tolerance> tolerance_table();
// The bound for this row; throws std::out_of_range naming the key when the table has no such row.
const Tolerance& tolerance(std::string_view stage, std::string_view metric, Against against,
                           std::string_view backend = "reference", std::string_view precision = "f64");

}  // namespace aiaccel::validate
