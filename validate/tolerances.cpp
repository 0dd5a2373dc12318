// Tolerance table rows. Bounds come from the acceptance list and docs/validation.md §4 (columns
// "reference vs aiapy" and "fast vs reference"); each reason says what round-off the bound absorbs.
// Never raise a bound to make a test pass: a fast path that cannot meet it stays disabled.
#include "validate/tolerances.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace aiaccel::validate {
namespace {
using enum Against;

constexpr auto kTable = std::to_array<Tolerance>({
    // ---- structural: every stage, every comparison --------------------------------------------
    {"*", "shape_mismatch_max", any, "*", "*", 0, "the output must have the compared array's shape: a wrong shape is a bug, never round-off"},
    {"*", "nan_mismatch_max", any, "*", "*", 0,
     "NaN masks must agree exactly: BLANK→NaN, NaN spreading in RL and register's NaN dilation are deterministic (§7.13)"},
    {"*", "dtype_mismatch_max", any, "*", "*", 0, "output dtype as numpy gives it (register keeps float32, calibration gives float64; §7.11)"},
    {"*", "refusal_mismatch_max", any, "*", "*", 0,
     "an input aiapy refuses (a cut-out for register, a 1600 Å map for a V10 table) must be refused, and only those"},
    {"*", "input_mismatch_max", any, "*", "*", 0,
     "the input must be the one the golden was made from (sha256 of the derived map, testdata/golden/DERIVED.md)"},

    // ---- psf ----------------------------------------------------------------------------------
    {"psf", "max_abs_over_max", aiapy, "reference", "f64", 1e-12,
     "FFTW vs numpy pocketfft round-off in the three 4096² FFTs (~1e-16 measured); exp/sin/sum reproduced"},
    {"psf", "sum_minus_1", aiapy, "reference", "f64", 1e-12,
     "|ΣP−1|: abs() turns FFT round-off into a positive floor summed over 16.8 M pixels (~4e-13)"},
    {"psf", "peak_rel", aiapy, "reference", "f64", 1e-12, "the peak pixel [2048, 2048]: the same FFT round-off as max|Δ|/max"},
    {"psf", "argmax_offset_px_max", any, "*", "*", 0, "the PSF peak sits on pixel [2048, 2048] (aiapy's roll/fftshift by N/2), whatever the FFT"},
    {"psf", "max_abs_over_max", reference, "*", "f64", 1e-15,
     "§8: another float64 FFT (FFTW/cuFFT) measured 1.6e-17 of max; components agree to a few ulp"},
    {"psf", "sum_minus_1", reference, "*", "f64", 1e-12, "§8: |ΣP−1| is the abs() floor of any float64 FFT, 3.9e-13 / 4.2e-13 measured"},
    {"psf", "max_abs_over_max", reference, "*", "f32", 3e-7, "§8: float32 FFT measured 2.7e-8 of max, ×10 margin"},
    {"psf", "sum_minus_1", reference, "*", "f32", 1e-3,
     "§8: the float32 FFT floor summed over 16.8 M pixels gives Σ−1 ≈ 2e-4 (keep the PSF in float64 and cast)"},

    // ---- deconvolve ---------------------------------------------------------------------------
    {"deconvolve", "max_abs_over_max", aiapy, "reference", "f64", 1e-10,
     "FFT-library round-off over 25 RL iterations (100 transforms), float64 input to aiapy (§7.6)"},
    {"deconvolve", "rel_l2", aiapy, "reference", "f64", 1e-11, "FFT-library round-off over 25 RL iterations, L2 over the image"},
    {"deconvolve", "max_abs_over_max", reference, "*", "f64", 1e-12,
     "§8: two float64 FFT libraries differ by 1.3e-15 of max after 25 iterations (synthetic 4096²); margin for real data"},
    {"deconvolve", "max_abs_over_max", reference, "*", "f32", 5e-6,
     "§8: all-float32 RL measured 5.7e-7 of max (4096², 171 Å PSF), ×10 for real data"},
    {"deconvolve", "rel_l2", reference, "*", "f32", 2e-6, "§8: all-float32 RL measured 2.5e-7 relative L2, ×10 for real data"},
    // solar-disk metrics (docs/validation.md §2.1; measured on the derived 4096² it1/it5/it25 cases, cpu backend)
    {"deconvolve", "flux_ratio_minus_1", reference, "*", "f64", 1e-12,
     "§2.1: Σ over the disk of two float64 RLs: measured ≤ 1.1e-16; FFT round-off cannot bias a sum more than max|Δ|/max's bound"},
    {"deconvolve", "limb_profile_error", reference, "*", "f64", 1e-12, "§2.1: radial profile across the limb, measured ≤ 2.4e-16; as max|Δ|/max"},
    {"deconvolve", "off_disk_max_rel", reference, "*", "f64", 1e-12,
     "§2.1: max|Δ| off disk over the off-disk max, measured ≤ 7.9e-16: FFT round-off scales with the image, not the corona"},
    {"deconvolve", "flux_ratio_minus_1", reference, "*", "f32", 5e-7, "§2.1: all-float32 RL biases the disk's sum by ≤ 4.4e-8 measured, ×10"},
    {"deconvolve", "limb_profile_error", reference, "*", "f32", 8e-7,
     "§2.1: all-float32 RL measured 7.8e-8 of the limb profile's max (25 iterations), ×10"},
    {"deconvolve", "off_disk_max_rel", reference, "*", "f32", 3e-6, "§2.1: all-float32 RL measured ≤ 2.6e-7 of the off-disk max, ×10"},
    // per-iteration error (docs/validation.md §2.2): every estimate held to the final estimate's bound
    {"deconvolve", "iteration_max_rel", reference, "*", "f64", 1e-12,
     "§2.2: worst max|Δ|/max over the iterations, the final image's bound; measured ≤ 1.4e-15 (after iteration 8 of 25, derived 4096², two runs)"},
    {"deconvolve", "iteration_max_rel", reference, "*", "f32", 5e-6,
     "§2.2: worst max|Δ|/max over the iterations, the final image's bound; all-float32 RL measured ≤ 5.2e-7 (derived 4096², 25 iterations)"},
    {"deconvolve", "max_abs_over_max", exact, "*", "f64", 1e-14,
     "delta PSF / constant image: RL is the identity, only float64 FFT round-off remains (~1e-16 per transform)"},
    {"deconvolve", "max_abs_over_max", exact, "*", "f32", 5e-6, "delta PSF / constant image in float32: float32 FFT round-off, as fast vs reference"},

    // ---- register -----------------------------------------------------------------------------
    {"register", "max_abs_over_max", aiapy, "reference", "f64", 2e-7,
     "1 ulp of float32 output where a coordinate ulp flips the final rounding (outside a 2-px band at the valid edge)"},
    {"register", "bitwise_fraction_min", aiapy, "reference", "f64", 0.999,
     "spline reproduced op for op; 2x2 inverse/BLAS dot (§7.9) flip rare float32 roundings"},
    {"register", "edge_flips_max", aiapy, "reference", "f64", 100,
     "constant-mode bound 0 ≤ X ≤ n−1 decided by a coordinate 1 ulp off (§7.10); counted, not valued"},
    {"register", "header_rel", aiapy, "reference", "f64", 1e-12,
     "header floats (CRPIX, PC, CDELT) from the same double arithmetic; BLAS dot/inv ulps"},
    {"register", "header_mismatch_max", aiapy, "reference", "f64", 0,
     "every key aiapy's output has is present with the same string value, and no other key"},
    {"register", "warning_mismatch_max", aiapy, "reference", "f64", 0,
     "aiapy's warnings, same text (level-1.5 or LVL_NUM-less input: 'only ... level 1 data'; docs/validation.md §3)"},
    {"register", "max_abs_over_max", reference, "*", "f32", 2e-6, "§8: float32 compute with float64 coordinates measured 1.6e-7 of max (1024²), ×10"},
    {"register", "rel_l2", reference, "*", "f32", 1e-6, "§8: float32 compute with float64 coordinates measured 8.4e-8 relative L2, ×10"},
    {"register", "max_abs_over_max", reference, "*", "f64", 2e-7,
     "float64 compute stores the reference's dtype: only a coordinate ulp flips a float32 rounding (as vs aiapy)"},
    {"register", "edge_flips_max", reference, "*", "*", 100, "constant-mode bound decided by a coordinate 1 ulp off (§7.10); counted, not valued"},
    {"register", "bitwise_fraction_min", reference, "cpu", "f64", 1,
     "float64 repeats scipy's operations in scipy's order without contraction (docs/algorithms.md §3.4): the reference's bits"},
    {"register", "bitwise_fraction_min", reference, "cuda", "f64", 1,
     "the float64 kernels repeat the reference's arithmetic without contraction (tests/test_cuda_host.cpp): the reference's bits"},
    // solar-disk metrics (docs/validation.md §2.1; measured on the 128², 2048², 1024² synoptic real and 4096² derived maps, cpu backend)
    {"register", "flux_ratio_minus_1", reference, "*", "f64", 1e-8,
     "§2.1: float64 compute, float32 output: at most a 6e-8 (1 ulp) rounding flip on 1/6 of the disk, all one way; measured 0"},
    {"register", "limb_profile_error", reference, "*", "f64", 1e-7,
     "§2.1: every pixel of a limb bin one float32 ulp (6e-8) off the same way, with margin; measured 0"},
    {"register", "off_disk_max_rel", reference, "*", "f64", 2e-7, "§2.1: one float32 ulp of the off-disk maximum, as max|Δ|/max; measured 0"},
    {"register", "flux_ratio_minus_1", reference, "*", "f32", 3e-7,
     "§2.1: float32 splines measured ≤ 2.9e-8 (synoptic 211 Å) since the prefilter gain is rounded once (1.6e-7 before), ×10"},
    {"register", "limb_profile_error", reference, "*", "f32", 5e-7,
     "§2.1: float32 splines measured ≤ 4.4e-8 of the limb profile's max (synoptic 171 Å), ×10"},
    {"register", "off_disk_max_rel", reference, "*", "f32", 1.2e-5, "§2.1: float32 splines measured 1.16e-6 of the off-disk max (2048² 1600 Å), ×10"},
    {"register", "max_abs_over_max", exact, "*", "f64", 1e-12,
     "identity transform: coordinates are integers to ~1e-14 px, where the spline returns the samples up to prefilter round-off"},
    {"register", "max_abs_over_max", exact, "*", "f32", 2e-6,
     "identity transform in float32 coefficients/weights: prefilter and 16-tap sum round-off, the f32-vs-reference bound (§8)"},

    // ---- prep (update_pointing, degradation, exposure) -----------------------------------------
    {"prep", "factor_rel", aiapy, "reference", "f64", 4.5e-16, "one cubic polynomial and one ratio in double: 2 ε64"},
    {"prep", "crpix_abs", aiapy, "reference", "f64", 1e-9,
     "aiapy 0.12.1 CRPIX = ((CRPIX−1)+1)+(X0_table−X0_MP): three double operations on O(2000) px values"},
    {"prep", "header_mismatch_max", aiapy, "reference", "f64", 0,
     "pointing keys are copied from the table: exact (0.12.1's CRPIX is bounded by crpix_abs instead)"},
    {"prep", "data_mismatch_max", aiapy, "reference", "f64", 0,
     "data·(1/d) and data·(1/EXPTIME): one multiply by a reciprocal, bit for bit (§3.5, §8)"},

    // ---- the fast full-disk check (register's refusal test) ----------------------------------------
    {"full_disk", "margin_arcsec_max", reference, "*", "f64", 1e-6,
     "the disk's margin inside the frame: an analytic edge test vs the reference's pixel-by-pixel one, both float64 on ~1000″ "
     "values; 1e-6″ is under 2e-6 of a 0.6″ pixel, far below any decision it makes"},

    // ---- one PSF component (fast backends' windowed Gaussians against the reference's) -----------
    {"psf_component", "max_abs_over_max", reference, "*", "f64", 1e-15,
     "same exp/sin per Gaussian, exact windowing; only ΣS, ΣC summed in another order (≤ a few ulp)"},
});

bool matches(std::string_view pattern, std::string_view value) { return pattern == "*" || pattern == value; }
int specificity(const Tolerance& t) { return (t.stage != "*") + (t.against != Against::any) + (t.backend != "*") + (t.precision != "*"); }
}  // namespace

std::string_view to_string(Against a) {
    switch (a) {
        case Against::aiapy: return "aiapy";
        case Against::reference: return "reference";
        case Against::exact: return "exact";
        case Against::any: return "any";
    }
    return "?";
}

std::string_view Tolerance::value_name() const {
    if (metric == "max_abs_over_max") return metric;  // a value name of its own ("max|Δ| over max|ref|")
    if (metric.size() > 4 && (metric.ends_with("_min") || metric.ends_with("_max"))) return metric.substr(0, metric.size() - 4);
    return metric;
}

std::span<const Tolerance> tolerance_table() { return kTable; }

const Tolerance& tolerance(std::string_view stage, std::string_view metric, Against against, std::string_view backend, std::string_view precision) {
    // The most specific row that matches (wildcard rows cover every backend / precision).
    const Tolerance* best = nullptr;
    for (const auto& t : kTable)
        if (matches(t.stage, stage) && t.metric == metric && (t.against == against || t.against == Against::any) && matches(t.backend, backend) &&
            matches(t.precision, precision) && (!best || specificity(t) > specificity(*best)))
            best = &t;
    if (best) return *best;
    throw std::out_of_range("no tolerance row for " + std::string(stage) + "/" + std::string(metric) + "/" + std::string(to_string(against)) + "/" +
                            std::string(backend) + "/" + std::string(precision));
}

std::vector<const Tolerance*> tolerances_for(std::string_view stage, Against against, std::string_view backend, std::string_view precision) {
    std::vector<const Tolerance*> out;
    for (const auto& t : kTable) {
        if (!matches(t.stage, stage) || !(t.against == against || t.against == Against::any) || !matches(t.backend, backend) ||
            !matches(t.precision, precision))
            continue;
        bool replaced = false;
        for (auto*& o : out)
            if (o->metric == t.metric) {
                if (specificity(t) > specificity(*o)) o = &t;
                replaced = true;
            }
        if (!replaced) out.push_back(&t);
    }
    return out;
}

RegressionFloor regression_floor(std::string_view v) {
    if (v == "edge_flips") return {10, "a handful of boundary flips is coordinate round-off (§7.10)"};
    if (v == "crpix_abs") return {1e-12, "sub-picometre-pixel CRPIX changes are double round-off"};
    if (v.ends_with("_mismatch") || v == "argmax_offset_px") return {0.5, "counts: any increase from zero is a regression"};
    return {1e-14, "≈ 50 ε64: below this, changes are FFT-plan / CPU-dispatch round-off, not regressions"};
}

}  // namespace aiaccel::validate
