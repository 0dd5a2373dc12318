// Reproducible full-resolution inputs derived from real files (labelled as derived, never passed
// off as observations). Rule: testdata/golden/DERIVED.md — bit for bit what the oracle script builds.
#pragma once

#include <string>

#include "core/aia_image.hpp"

namespace aiaccel {

inline constexpr const char* kDerived1600Label = "derived-1600x2";
inline constexpr const char* kDerived1600Source = "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits";

// 2×2 pixel replication of a 2048×2048 image to 4096×4096: CDELT/2, CRPIX' = 2·(CRPIX − 0.5) + 0.5,
// DERIVED keyword and a HISTORY line; every other card unchanged. Error if the source is not 2048².
AiaImage derive_full_res_2x(const AiaImage& src);

// Stored as real level-1 files are: int16 counts, each value rounded to the nearest integer and
// clamped to ±32767, the missing value -32768 kept (written with BLANK -32768, which astropy reads as
// NaN in a float32 image). Adds a HISTORY line; dtype i16. Error if a value is NaN.
AiaImage derive_int16_counts(const AiaImage& src);

// The header of a synthetic level-1 171 Å map for exact-answer cases: helioprojective TAN in arcsec,
// CRVAL 0, observer at 1 AU on the Sun–Earth line, Sun radius 959.6″.
FitsHeader synthetic_aia_header(double cdelt, double crpix, double crota2);

}  // namespace aiaccel
