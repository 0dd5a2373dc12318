"""aiaccel: aiapy's PSF, deconvolution and registration on aiaccel's validated C++ backends."""
from aiaccel._core import __version__
