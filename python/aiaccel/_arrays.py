"""Array level: numpy in, numpy out (the functions of aiaccel._core, re-exported with docs)."""
from aiaccel._core import affine_transform, contains_full_disk, deconvolve, psf, register

__all__ = ["affine_transform", "contains_full_disk", "deconvolve", "psf", "register"]
