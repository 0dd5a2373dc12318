"""Map level: aiapy-compatible psf / deconvolve / register on sunpy Maps, over aiaccel._core.

Signatures, defaults, warnings and exceptions follow aiapy 0.10.2 (aiapy.psf.psf, aiapy.psf.deconvolve,
aiapy.calibrate.register); each function also takes backend= ('cpu' or 'reference'), precision=
('f64' or 'f32') and threads= (0: all hardware threads). Maps out are new instances with deep-copied
metadata; the input Map is never modified.
"""
import copy
import functools
import warnings

import numpy as np

from aiaccel import _core

EUV_CHANNELS = (94, 131, 171, 193, 211, 304, 335)
DEFAULT_BACKEND = "cpu"
# aiapy's own functions, saved by aiaccel.testing.aiapy_plugin before it replaces them with aiaccel's.
_AIAPY_ORIGINALS = {}

# Keys the C++ header never carries (the FITS writer derives them from the data).
_STRUCTURAL = ("simple", "xtension", "bitpix", "naxis", "pcount", "gcount", "extend", "tfields", "end", "bscale",
               "bzero", "blank", "checksum", "datasum", "zimage", "ztension", "zsimple")


def _user_warning():
    """aiapy's AIApyUserWarning: aiapy.utils from 0.11 on, aiapy.util before."""
    try:
        from aiapy.utils import AIApyUserWarning
    except ImportError:
        try:
            from aiapy.util import AIApyUserWarning
        except ImportError:  # aiapy is optional: the warning class then is a plain UserWarning
            return UserWarning
    return AIApyUserWarning


def _channel_value(channel):
    """Channel in Å as an int: an astropy Quantity (any length unit) or a number."""
    given = channel
    if hasattr(channel, "unit"):
        import astropy.units as u

        channel = channel.to_value(u.angstrom)
    value = round(float(np.asarray(channel)), 6)  # 17.1 nm is 171 Å despite the unit conversion's rounding
    if value not in EUV_CHANNELS:
        listed = ", ".join(f"{c}.0 Angstrom" for c in EUV_CHANNELS)
        raise ValueError(f'channel "{given}" not in list of valid channels: [{listed}].')
    return int(value)


def psf(channel, *, use_preflightcore=False, diffraction_orders=None, use_gpu=True, backend=DEFAULT_BACKEND,
        precision="f64", threads=0, aiapy_version="0.10.2"):
    """The 4096×4096 float64 PSF of an EUV channel, as aiapy.psf.psf (use_gpu is accepted and ignored).

    diffraction_orders other than aiapy's default (−100 … 100) are computed by the reference backend.
    """
    del use_gpu
    orders = None if diffraction_orders is None else [int(o) for o in np.asarray(diffraction_orders).ravel()]
    return _core.psf(_channel_value(channel), use_preflightcore=bool(use_preflightcore), diffraction_orders=orders,
                     aiapy_version=aiapy_version, backend=backend, precision=precision, threads=threads)


def calculate_psf(channel, *, use_preflightcore=False, diffraction_orders=None, backend=DEFAULT_BACKEND,
                  precision="f64", threads=0, aiapy_version="0.12.1"):
    """aiapy 0.12.1's name and signature for psf (aiapy.psf.calculate_psf; no use_gpu): the PSF as
    aiapy 0.12.1 computes it unless aiapy_version says otherwise."""
    return psf(channel, use_preflightcore=use_preflightcore, diffraction_orders=diffraction_orders, backend=backend,
               precision=precision, threads=threads, aiapy_version=aiapy_version)


@functools.lru_cache(maxsize=4)
def _default_psf(channel, backend, precision, aiapy_version):
    out = psf(channel, backend=backend, precision=precision, aiapy_version=aiapy_version)
    out.flags.writeable = False  # shared between calls
    return out


def deconvolve(smap, *, psf=None, iterations=25, clip_negative=True, use_gpu=True, backend=DEFAULT_BACKEND,
               precision="f64", threads=0, aiapy_version="0.10.2"):
    """Richardson-Lucy deconvolution of a Map, as aiapy.psf.deconvolve; returns a new Map (float64).

    aiapy_version ("0.10.2" or "0.12.1") selects the PSF computed when psf is None (the iteration is the
    same in both)."""
    del use_gpu
    data = smap.data
    if not clip_negative and np.any(data < 0):
        warnings.warn("Image contains negative intensity values. Consider setting clip_negative to True",
                      _user_warning(), stacklevel=2)
    if psf is None:
        psf = _default_psf(_channel_value(smap.wavelength), backend, precision, aiapy_version)
    out = _core.deconvolve(data, psf, iterations=int(iterations), clip_negative=bool(clip_negative), backend=backend,
                           precision=precision, threads=threads)
    return smap._new_instance(out, copy.deepcopy(smap.meta), plot_settings=copy.deepcopy(smap.plot_settings),
                              mask=smap.mask)


def _same(a, b):
    if isinstance(a, float | np.floating) and isinstance(b, float | int) and not isinstance(b, bool):
        return float(a) == float(b) or (np.isnan(a) and np.isnan(float(b)))
    if isinstance(a, bool | np.bool_) or isinstance(b, bool):
        return bool(a) == bool(b) and type(b) is bool and isinstance(a, bool | np.bool_)
    if isinstance(a, int | np.integer) and isinstance(b, int):
        return int(a) == b
    return type(a) is type(b) and a == b


def _carried(key, value):
    """Whether the C++ header receives this meta item (so that its absence afterwards means removal)."""
    key = str(key).lower()
    if len(key) > 8 or key in _STRUCTURAL or key.startswith(("naxis", "z", "ttype", "tform", "tunit", "tdim")):
        return False
    return isinstance(value, bool | int | float | str | np.bool_ | np.integer | np.floating)


def _updated_meta(meta, new):
    """A deep copy of `meta` with the C++ stage's header changes applied: changed and new keys set,
    keys the stage removed deleted; values the stage left alone keep their Python objects."""
    out = copy.deepcopy(meta)
    for key, value in new.items():
        if key in ("history", "comment"):
            continue
        if key not in out or not _same(out[key], value):
            # sunpy's rotate computes the new WCS values with numpy (np.float64); aiapy sets lvl_num
            # as a Python float.
            out[key] = np.float64(value) if isinstance(value, float) and key != "lvl_num" else value
    for key in list(out.keys()):
        if key not in new and key not in ("history", "comment") and _carried(key, out[key]):
            del out[key]
    return out


def contains_full_disk(smap, *, backend=DEFAULT_BACKEND):
    """sunpy.map.maputils.contains_full_disk for an AIA Map."""
    return _core.contains_full_disk(smap.data, smap.meta, backend=backend, name=_name(smap))


def _name(smap):
    return f"{smap.__class__.__name__} {smap.meta.get('t_obs', smap.meta.get('date-obs', ''))}".strip()


def register(smap, *, missing=None, order=3, method=None, backend=DEFAULT_BACKEND, precision="f64", threads=0):
    """Register an AIA level-1 Map to level 1.5, as aiapy.calibrate.register; returns a new Map.

    method is accepted for aiapy's signature: None or 'aiaccel' run aiaccel; any other sunpy rotation
    method runs aiapy.calibrate.register itself with it. HMI maps go through aiapy's register with the
    'aiaccel' rotation method.
    """
    from sunpy.map.sources import AIAMap, HMIMap

    if method not in (None, "aiaccel") or isinstance(smap, HMIMap):
        aiapy_register = _AIAPY_ORIGINALS.get("register")
        if aiapy_register is None:
            from aiapy.calibrate.prep import register as aiapy_register

        return aiapy_register(smap, missing=missing, order=order, method=method or "aiaccel")
    if not isinstance(smap, AIAMap):
        raise TypeError("Input must be an AIAMap or HMIMap.")
    level_warning = smap.processing_level is None or smap.processing_level > 1
    # One C++ call checks the full disk (None: aiapy's ValueError), converts the pixels and registers,
    # with the GIL released; no second pass over the pixels for the check. aiapy warns about the level
    # between the full-disk check and the computation: here once the call has returned.
    result = _core.register(smap.data, smap.meta, missing=None if missing is None else float(missing),
                            order=int(order), backend=backend, precision=precision, threads=threads,
                            name=_name(smap), check_full_disk=True)
    if result is None:
        raise ValueError("Input must be a full disk image.")
    if level_warning:
        warnings.warn("Image registration should only be applied to level 1 data", _user_warning(), stacklevel=2)
    data, header, dtype = result
    meta = _updated_meta(smap.meta, header)
    # Keys sunpy's rotate and aiapy always write as numpy results, changed or not (cdelt: written
    # when the scale changes, which for AIA pixels it always does).
    for key in ("crval1", "crval2", "crpix1", "crpix2", "pc1_1", "pc1_2", "pc2_1", "pc2_2", "cdelt1", "cdelt2", "r_sun"):
        if key in header:
            meta[key] = np.float64(header[key])
    meta["naxis1"], meta["naxis2"] = data.shape[1], data.shape[0]
    meta["bitpix"] = -64
    return smap._new_instance(data.astype(dtype, copy=False), meta, plot_settings=copy.deepcopy(smap.plot_settings))
