"""aiaccel.register against aiapy.calibrate.register (0.10.2) on every real file: the same Map key by
key (values and Python types) and pixel by pixel (reference: bitwise; cpu: within 1e-12 of the maximum,
bitwise on these files), the same exceptions and warnings, the input Map unchanged."""
import warnings

import numpy as np
import pytest

import aiaccel
from conftest import load, snapshot


def assert_same_map(a, b, *, bitwise):
    assert type(a) is type(b)
    assert a.data.shape == b.data.shape and a.data.dtype == b.data.dtype
    if bitwise:
        assert np.array_equal(a.data, b.data, equal_nan=True)
    else:
        assert np.array_equal(np.isnan(a.data), np.isnan(b.data))
        scale = np.nanmax(np.abs(a.data))
        assert np.nanmax(np.abs(a.data - b.data)) <= 1e-12 * scale
    assert set(a.meta) == set(b.meta), (set(a.meta) ^ set(b.meta))
    for key in a.meta:
        assert type(a.meta[key]) is type(b.meta[key]), key
        assert a.meta[key] == b.meta[key], key


def aiapy_register(m, **kw):
    from aiapy.calibrate import register

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return register(m, **kw)


@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_register_matches_aiapy(aia_file, backend):
    m = load(aia_file)
    before = snapshot(m)
    try:
        expected = aiapy_register(m)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)):
            aiaccel.register(m, backend=backend)
        return
    got = aiaccel.register(m, backend=backend)
    assert_same_map(got, expected, bitwise=True)
    assert snapshot(m) == before
    assert got.data is not m.data


@pytest.mark.parametrize("dtype", ["float32", "int16", ">f8", ">f4"])
def test_register_input_dtypes_match_aiapy(dtype):
    m = load("aia_171_level1.fits")
    m = m._new_instance(np.round(m.data).astype(dtype) if dtype == "int16" else m.data.astype(dtype), m.meta)
    assert_same_map(aiaccel.register(m), aiapy_register(m), bitwise=True)


def test_register_missing_and_order_match_aiapy():
    m = load("aia_171_level1.fits")
    for kw in ({"missing": 0.0}, {"order": 1}, {"order": 5, "missing": -3.0}):
        assert_same_map(aiaccel.register(m, backend="reference", **kw), aiapy_register(m, **kw), bitwise=True)


def test_register_non_aia_map_is_type_error():
    import sunpy.map

    m = load("aia_171_level1.fits")
    generic = sunpy.map.GenericMap(m.data, {k: v for k, v in m.meta.items() if k not in ("instrume", "telescop", "detector")})
    with pytest.raises(TypeError, match="Input must be an AIAMap or HMIMap."):
        aiaccel.register(generic)


def test_register_submap_is_refused_like_aiapy():
    import astropy.units as u

    m = load("aia_171_level1.fits")
    sub = m.submap([10, 10] * u.pix, top_right=[100, 100] * u.pix)
    with pytest.raises(ValueError, match="Input must be a full disk image."):
        aiaccel.register(sub)


def test_register_level_15_warns_like_aiapy():
    from aiapy.util import AIApyUserWarning

    once = aiaccel.register(load("aia_171_level1.fits"))
    with pytest.warns(AIApyUserWarning, match="Image registration should only be applied to level 1 data"):
        aiaccel.register(once)


def test_rotation_method_aiaccel_equals_scipy():
    m = load("aia_171_level1.fits")
    for order in (0, 1, 3, 5):
        a = m.rotate(order=order, method="aiaccel", missing=0.0)
        b = m.rotate(order=order, method="scipy", missing=0.0)
        assert np.array_equal(a.data, b.data, equal_nan=True), order
    assert_same_map(aiapy_register(m, method="aiaccel"), aiapy_register(m), bitwise=True)
