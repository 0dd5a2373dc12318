"""aiaccel.update_pointing / correct_degradation against aiapy 0.10.2 on every real file (and the derived
4096² map, the only input aiapy 0.10.2's update_pointing accepts): the same Map key by key (values and
Python types) and pixel by pixel, bitwise, or the same exception; the input Map unchanged. aiapy gets
the same local tables (its own parsers, nothing fetched)."""
import pathlib
import subprocess
import warnings

import numpy as np
import pytest

import aiaccel
from conftest import DATA, FILES, ROOT, load, snapshot
from test_register import assert_same_map

POINTING = [ROOT / "testdata" / "golden" / "pointing_table.csv", ROOT / "testdata" / "golden" / "pointing_table_nan.csv"]
RESPONSE = sorted((DATA / "tables").glob("aia_V*_response_table.txt"))


@pytest.fixture(scope="session")
def derived(tmp_path_factory):
    """The labelled 4096² input (`aiaccel derive` of the bundled 2048² 1600 Å file)."""
    from aiaccel._cli import find_cli

    try:
        cli = find_cli()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    out = tmp_path_factory.mktemp("derived") / "derived.fits"
    src = DATA / "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits"
    subprocess.run([cli, "derive", str(src), "-o", str(out)], check=True, capture_output=True)
    return out


def load_path(path):
    import sunpy.map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sunpy.map.Map(path)


def aiapy_pointing_table(path):
    """aiapy's own get_pointing_table('lmsal') parser on the local file (data manager override)."""
    import hashlib

    from aiapy.calibrate.util import get_pointing_table
    from aiapy.data._manager import manager

    sha = hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
    with manager.override_file("pointing_table", uri=str(path), sha_hash=sha):
        return get_pointing_table("lmsal")


def same_outcome(aiapy_call, aiaccel_call):
    """Both return Maps equal key by key and bitwise, or both raise the same exception class; returns
    aiapy's warnings and aiaccel's (messages)."""
    with warnings.catch_warnings(record=True) as wa:
        warnings.simplefilter("always")
        try:
            expected = aiapy_call()
        except (ValueError, IndexError) as e:
            with pytest.raises(type(e)):
                aiaccel_call()
            return None
    with warnings.catch_warnings(record=True) as wb:
        warnings.simplefilter("always")
        got = aiaccel_call()
    assert_same_map(got, expected, bitwise=True)
    msgs = lambda ws: sorted(str(w.message) for w in ws if "aiapy" in type(w.message).__module__ or "AIApy" in type(w.message).__name__)
    assert msgs(wb) == msgs(wa)
    return got


@pytest.mark.parametrize("table", POINTING, ids=lambda p: p.name)
@pytest.mark.parametrize("name", FILES + ["derived"])
def test_update_pointing_matches_aiapy(name, table, derived):
    from aiapy.calibrate import update_pointing

    m = load_path(derived) if name == "derived" else load(name)
    before = snapshot(m)
    qtable = aiapy_pointing_table(table)
    got = same_outcome(lambda: update_pointing(m, pointing_table=qtable),
                       lambda: aiaccel.update_pointing(m, pointing_table=table))
    assert snapshot(m) == before
    if got is not None:  # an astropy Table works as the file does
        again = aiaccel.update_pointing(m, pointing_table=qtable)
        assert_same_map(again, got, bitwise=True)


@pytest.mark.parametrize("table", RESPONSE, ids=lambda p: p.name)
@pytest.mark.parametrize("name", FILES + ["derived"])
def test_correct_degradation_matches_aiapy(name, table, derived):
    from aiapy.calibrate import correct_degradation
    from aiapy.calibrate.util import get_correction_table

    m = load_path(derived) if name == "derived" else load(name)
    before = snapshot(m)
    qtable = get_correction_table(table)
    same_outcome(lambda: correct_degradation(m, correction_table=qtable),
                 lambda: aiaccel.correct_degradation(m, correction_table=table))
    assert snapshot(m) == before


def test_calibrate_errors():
    m = load("aia_171_level1.fits")
    with pytest.raises(ValueError, match="full resolution|full disk"):
        aiaccel.update_pointing(m, pointing_table=POINTING[0])
    with pytest.raises(OSError, match="nonexistent"):
        aiaccel.correct_degradation(m, correction_table="nonexistent.txt")
    with pytest.raises(TypeError, match="correction_table"):
        aiaccel.correct_degradation(m, correction_table=42)
    # aiapy 0.12.1 semantics accept cut-outs: the 128² map gets the table's pointing shifted by X0_MP.
    out = aiaccel.update_pointing(m, pointing_table=POINTING[0], aiapy_version="0.12.1")
    assert "pc1_1" not in out.meta and out.meta["crpix1"] != m.meta["crpix1"]
