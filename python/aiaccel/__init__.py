"""aiaccel: aiapy's PSF, deconvolution and registration on aiaccel's validated C++ backends.

Map level (sunpy/aiapy users): aiaccel.psf (aiapy 0.12.1's name: calculate_psf), aiaccel.deconvolve, aiaccel.register, aiaccel.contains_full_disk,
aiaccel.update_pointing, aiaccel.correct_degradation.
Array level (numpy): aiaccel.arrays. Importing aiaccel.rotation (done here when sunpy is installed)
registers the sunpy rotation method "aiaccel" (Map.rotate(method="aiaccel")).
"""
from aiaccel import _arrays as arrays
from aiaccel._core import __version__
from aiaccel._maps import calculate_psf, contains_full_disk, deconvolve, psf, register
from aiaccel._prep import PrepError, prep

try:
    from aiaccel._calibrate import correct_degradation, update_pointing
except ImportError:  # numpy-only install
    pass

try:
    from aiaccel import _rotation  # noqa: F401  (registers sunpy's "aiaccel" rotation method)
except ImportError:  # sunpy not installed: the array level still works
    pass

__all__ = ["arrays", "calculate_psf", "contains_full_disk", "correct_degradation", "deconvolve", "prep", "PrepError", "psf", "register", "update_pointing",
           "__version__"]
