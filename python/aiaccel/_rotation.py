"""The sunpy rotation method "aiaccel": Map.rotate(method="aiaccel") and
aiapy.calibrate.register(m, method="aiaccel") run aiaccel's spline kernels (order 3 on the fast cpu
kernels, other orders on the reference port of scipy.ndimage.affine_transform)."""
import numpy as np
from sunpy.image.transform import _rotation_registry, add_rotation_function

if "aiaccel" not in _rotation_registry:

    @add_rotation_function("aiaccel", allowed_orders=range(6), handles_clipping=False, handles_image_nans=False,
                           handles_nan_missing=True)
    def _rotation_aiaccel(image, matrix, shift, order, missing, clip):
        """
        * Rotates with aiaccel (scipy.ndimage.affine_transform semantics, mode ``'constant'``)
        * The ``order`` parameter is the spline order, 0 to 5; order 3 runs the fast cpu kernels
        """
        from aiaccel import _core

        out = _core.affine_transform(image, np.asarray(matrix, dtype=float), np.asarray(shift, dtype=float),
                                     order=int(order), missing=float(missing), backend="cpu")
        # scipy writes a native array of the input's dtype (dtype.name: byte order dropped).
        return out.astype(np.dtype(image.dtype.name), copy=False)
