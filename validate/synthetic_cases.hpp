// Synthetic validation cases with exact answers (docs/validation.md §3, test tier 1): the input a stage is run
// on and the output it must give, whatever the backend.
//  * deconvolve "delta_psf": aiapy.psf.deconvolve with a delta PSF is the identity (output = input,
//    a positive image, so clip_negative changes nothing);
//  * deconvolve "constant": a constant image under a PSF that sums to 1 is a fixed point of
//    Richardson–Lucy;
//  * register "identity": aiapy.calibrate.register of a full-disk map already at the target scale
//    (CDELT 19.2″ = 32 × 0.6″ on 128²), CROTA2 0 and the Sun at the array centre returns the map;
//  * register "constant": a constant map rotated by 30° and rescaled stays constant (missing =
//    nanmin = the constant, and sunpy clips to [min, max]).
#pragma once

#include "core/aia_image.hpp"
#include "core/image.hpp"
#include "validate/case_list.hpp"

namespace aiaccel::validate {

struct SyntheticCase {
    AiaImage input;  // the image, with an AIA-like helioprojective header
    Image<double> psf;  // deconvolve: the PSF, centred at [n/2, n/2]
    Image<double> expected;
};

// The case's stage driver makes it (stage_driver.hpp); Error(usage) naming the case for an unknown kind.
SyntheticCase make_synthetic(const Case& c);
// The kinds of each stage (called by its driver).
SyntheticCase synthetic_deconvolve(const Case& c);
SyntheticCase synthetic_register(const Case& c);

}  // namespace aiaccel::validate
