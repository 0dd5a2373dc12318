// Reference vs real aiapy: how one output of the reference port is compared with an aiapy golden
// record (testdata/golden/aiapy-<v>/items/*.json) for the image stages — psf (aiapy.psf.psf /
// calculate_psf), deconvolve (aiapy.psf.deconvolve) and register (aiapy.calibrate.register). The
// golden tests and `aiaccel validate` both call these, so they check exactly the same things; the
// result is a Measurement that validate/verdict.hpp judges against the tolerance table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "core/image.hpp"
#include "validate/golden_store.hpp"
#include "validate/verdict.hpp"

namespace aiaccel::validate {

struct GoldenPart {
    std::string name;  // the golden array: "crop_center_513", "blocksum_16", "full", ...
    Metrics metrics;
    std::string text;  // one line: the part's metrics
};

struct GoldenComparison {
    std::string item, version;  // "psf:171", "0.10.2"
    // Worst over the parts (max of the maxima, sums of the counts) plus the stage's extra values;
    // judge it with judge(m, stage, Against::aiapy, "reference", "f64").
    Measurement measurement;
    std::vector<GoldenPart> parts;
    std::string note;  // a whole-output observation ("whole output sha256 EQUAL to aiapy's", ...)
    // The part with the largest max|Δ|/max, for FITS dumps of a failure: ours and aiapy's.
    std::string worst_part;
    Image<double> ours, theirs;
    std::string summary() const;  // one line per part, then the extras
};

// Window of rows row0..row1, cols col0..col1 (inclusive, a golden "window" object) of `a`.
Image<double> golden_window(const Image<double>& a, const nlohmann::json& window);
// numpy a.reshape(H/b, b, W/b, b).sum(axis=(1,3)) in float64 (what "blocksum_16" holds), b | H, W, in
// numpy's order: each block row's b pixels pairwise-summed (the contiguous axis 3), then the b row
// sums added one after the other (axis 1), which gives numpy's bits (checked on the synoptic goldens).
Image<double> block_sum(const Image<double>& a, std::size_t b);

// psf: the central crop (crop_center_<N>) and the 16×16 block sums of the whole frame; extras
// sum_minus_1 (|ΣP − 1|, numpy's summation), peak_rel (peak vs aiapy's max) and argmax_offset_px.
GoldenComparison psf_vs_golden(const Image<double>& psf, const nlohmann::json& item, const GoldenStore& g);

// deconvolve: every window the record stores (crop_center_*, crop_limb_*) and blocksum_16.
GoldenComparison deconvolve_vs_golden(const Image<double>& out, const nlohmann::json& item, const GoldenStore& g);

// register: `out` is our output, or nullptr when we refused with `refusal`. A golden that records
// aiapy's refusal must be met by our refusal (Error bad_value "does not contain the full solar
// disk"), and vice versa (extra refusal_mismatch). Otherwise: dtype, shape, header (every key of
// aiapy's meta: strings equal, numbers to header_rel; extra header_mismatch counts the rest), and
// each stored array with compare_register_window (extra edge_flips: the most over the arrays).
// For the derived input, input_mismatch says whether `input` is the map DERIVED.md describes.
GoldenComparison register_vs_golden(const AiaImage& input, const AiaImage* out, const Error* refusal, const nlohmann::json& item,
                                    const GoldenStore& g);

// sha256 of the pixels stored as `t` (float32 values as 4 bytes), little-endian: what the oracle's
// sha256 fields hold.
std::string sha256_in_dtype(const Image<double>& img, PixelType t);

}  // namespace aiaccel::validate
