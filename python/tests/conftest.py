"""Shared fixtures: the real AIA files of testdata/aia (AIA_DATA_DIR's copies are the same files)."""
import copy
import hashlib
import pathlib
import warnings

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "testdata" / "aia"
FILES = sorted(p.name for p in DATA.glob("*.fits"))


def load(name):
    import sunpy.map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sunpy.map.Map(DATA / name)


def snapshot(m):
    """What must not change in an input Map: data bytes, dtype, flags and the whole meta."""
    return (hashlib.sha256(np.ascontiguousarray(m.data).tobytes()).hexdigest(), m.data.dtype, m.data.shape,
            copy.deepcopy(dict(m.meta)))


def max_abs_over_max(a, b):
    return float(np.nanmax(np.abs(a - b)) / np.nanmax(np.abs(b)))


@pytest.fixture(params=FILES)
def aia_file(request):
    return request.param


@pytest.fixture
def aiapy_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
