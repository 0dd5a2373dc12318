"""Array level: every numeric dtype and byte order, non-contiguous and read-only inputs give the
result of the native float64 array; native C-contiguous float64 is not copied; the GIL is released
while a stage computes; every error class becomes a Python exception with aiaccel's message."""
import threading
import time

import numpy as np
import pytest

import aiaccel
from aiaccel import _core
from conftest import load

A = aiaccel.arrays


def psf_for(shape):
    p = np.zeros(shape)
    p[shape[0] // 2, shape[1] // 2] = 0.6
    p[shape[0] // 2 + 1, shape[1] // 2] = p[shape[0] // 2, shape[1] // 2 + 1] = 0.2
    return p


@pytest.fixture(scope="module")
def image():
    data = np.round(load("aia_171_level1.fits").data)
    return data - data.min() + 1  # positive integers: exact in every dtype below, no 0/0 in the ratio


@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_dtypes_and_layouts_give_the_native_result(image, backend):
    psf = psf_for(image.shape)
    expected = A.deconvolve(image, psf, iterations=3, backend=backend)
    ro = image.copy()
    ro.flags.writeable = False
    wide = np.zeros((image.shape[0], 2 * image.shape[1]))
    wide[:, ::2] = image
    variants = {"big-endian f8": image.astype(">f8"), "float32": image.astype(np.float32), "big-endian f4": image.astype(">f4"),
                "int16": image.astype(np.int16), "big-endian i2": image.astype(">i2"), "int32": image.astype(np.int32),
                "uint16": (image + 10).astype(np.uint16) - 10.0, "non-contiguous": wide[:, ::2], "fortran": np.asfortranarray(image),
                "read-only": ro}
    for name, data in variants.items():
        got = A.deconvolve(data, psf, iterations=3, backend=backend)
        assert got.dtype == np.float64 and got.flags.c_contiguous, name
        assert np.array_equal(got, expected), name


def test_native_float64_is_not_copied(image):
    psf = psf_for(image.shape)
    n = _core._input_copies()
    A.deconvolve(image, psf, iterations=1)
    ro = image.copy()
    ro.flags.writeable = False
    A.deconvolve(ro, psf, iterations=1)
    assert _core._input_copies() == n
    A.deconvolve(image.astype(">f8"), psf, iterations=1)
    assert _core._input_copies() == n + 1


@pytest.mark.parametrize("dtype", ["f8", "f4", "f2", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "?"])
@pytest.mark.parametrize("order", ["=", ">", "<"])
def test_every_dtype_byte_order_and_stride_is_converted_exactly(dtype, order):
    """0 iterations, no clipping: the stage returns its float64 input, i.e. the C++ conversion (byte
    swap, dtype, strides; float16 through numpy) equals numpy's astype(float64)."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 100, size=(6, 12)) if dtype in ("u1", "u2", "u4", "u8", "?") else rng.integers(-100, 100, size=(6, 12))
    if dtype.startswith("f"):
        base = base + 0.25
    x = base.astype(np.dtype(dtype).newbyteorder(order) if dtype != "?" else "?")
    assert x.dtype.byteorder in ("=", "|") or order != "="
    for name, v in {"C": x, "F": np.asfortranarray(x), "reversed": x[::-1, ::-2], "transposed": x.T}.items():
        got = A.deconvolve(v, psf_for(v.shape), iterations=0, clip_negative=False)
        assert got.dtype == np.float64, (dtype, order, name)
        assert np.array_equal(got, v.astype(np.float64)), (dtype, order, name)


def test_register_keeps_float32_and_checks_the_full_disk_in_one_call():
    m = load("aia_171_level1.fits")
    f32 = m.data.astype(">f4")
    data, _, dtype = A.register(f32, dict(m.meta), backend="cpu")
    assert dtype == "float32" and data.dtype == np.float32 and data.flags.c_contiguous
    ref, _, _ = A.register(f32.astype(np.float64), dict(m.meta), backend="cpu")
    assert np.array_equal(data, ref.astype(np.float32), equal_nan=True)
    assert A.register(m.data, dict(m.meta), check_full_disk=True) is not None
    sub = dict(m.meta, crpix1=m.meta["crpix1"] + 60)  # the disk centre moves out of the image
    assert not A.contains_full_disk(m.data, sub)
    for backend in ("cpu", "reference"):
        assert A.register(m.data, sub, check_full_disk=True, backend=backend) is None


def test_register_array_level_returns_header_dict():
    m = load("aia_171_level1.fits")
    data, header, dtype = A.register(m.data, dict(m.meta), backend="cpu")
    assert data.shape == (128, 128) and dtype == "float64"
    assert header["lvl_num"] == 1.5 and isinstance(header["wavelnth"], int) and isinstance(header["instrume"], str)
    assert A.contains_full_disk(m.data, m.meta)
    from astropy.io import fits

    h = fits.Header()
    for k, v in m.meta.items():
        if len(k) <= 8 and isinstance(v, (bool, int, float, str)) and k not in ("history", "comment"):
            h[k] = v
    data2, _, _ = A.register(m.data, h, backend="cpu")
    assert np.array_equal(data, data2, equal_nan=True)


def test_gil_released_two_threads_overlap():
    """Python keeps running (a ticker thread advances) while two deconvolutions run in two threads."""
    rng = np.random.default_rng(1)
    data = rng.random((1024, 1024)) + 1
    psf = psf_for(data.shape)
    spans, ticks, stop = [], [0], threading.Event()

    def tick():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    def work():
        t0 = time.perf_counter()
        n0 = ticks[0]
        A.deconvolve(data, psf, iterations=8, threads=1)
        spans.append((t0, time.perf_counter(), ticks[0] - n0))

    ticker = threading.Thread(target=tick)
    ticker.start()
    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    ticker.join()
    (a0, a1, na), (b0, b1, nb) = spans
    assert max(a0, b0) < min(a1, b1), "the two calls did not overlap"
    assert na > 0 and nb > 0, "Python did not run during the calls: GIL held"


def test_errors_are_python_exceptions_with_aiaccels_messages(image):
    psf = psf_for(image.shape)
    cases = [
        (ValueError, "unknown backend 'gpu' \\(known: reference, cpu\\)", lambda: A.deconvolve(image, psf, backend="gpu")),
        (ValueError, "backend cuda: not available here", lambda: A.deconvolve(image, psf, backend="cuda")),
        (ValueError, "precision f16: expected f64 or f32", lambda: A.deconvolve(image, psf, precision="f16")),
        (ValueError, "backend reference does not compute in f32", lambda: A.deconvolve(image, psf, backend="reference", precision="f32")),
        (ValueError, "iterations must be >= 0", lambda: A.deconvolve(image, psf, iterations=-1)),
        (ValueError, "but the PSF is 2x2", lambda: A.deconvolve(image, np.ones((2, 2)))),
        (ValueError, "expected a 2-D array, got 1-D", lambda: A.deconvolve(image.ravel(), psf)),
        (ValueError, "expected a numeric array, got dtype <U1", lambda: A.deconvolve(np.full((2, 2), "a"), psf)),
        (ValueError, "order 7: expected a spline order 0-5", lambda: A.register(image, {}, order=7)),
        (ValueError, "WAVELNTH", lambda: A.register(image, {"instrume": "AIA_3"})),
        (ValueError, "not in list of valid channels", lambda: aiaccel.psf(1600)),
        (ValueError, "aiapy_version 0.11: expected 0.10.2 or 0.12.1", lambda: A.psf(171, aiapy_version="0.11")),
        (ValueError, "threads must be >= 0", lambda: A.deconvolve(image, psf, threads=-2)),
    ]
    for exc, message, call in cases:
        with pytest.raises(exc, match=message):
            call()


def test_psf_channel_as_quantity_or_number():
    import astropy.units as u

    from aiaccel._maps import _channel_value

    assert _channel_value(171 * u.angstrom) == 171 == _channel_value(171) == _channel_value(17.1 * u.nm)
    with pytest.raises(ValueError, match='channel "1600.0 Angstrom" not in list of valid channels'):
        _channel_value(1600 * u.angstrom)
