"""aiaccel.validate.check and aiaccel.testing.assert_matches_reference (issue #15): a Python callable
validated by `aiaccel validate --candidate` on the bundled real files: aiaccel's own register passes,
the same shifted by one pixel fails with the reason and its repro line."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import aiaccel
import aiaccel.validate
from aiaccel.testing import assert_matches_reference

CASES = ["register-aia_171_level1", "register-aia_171_cutout", "synthetic-identity-register"]


def right_register(data, header, *, order, missing):
    out, _, dtype = aiaccel.arrays.register(np.asarray(data, dtype=np.float64), dict(header), order=order, missing=missing)
    return out.astype(dtype)


def shifted_register(data, header, *, order, missing):
    return np.roll(right_register(data, header, order=order, missing=missing), 1, axis=1)


def test_right_fn_passes(tmp_path):
    result = aiaccel.validate.check(right_register, stage="register", cases=CASES, junit=tmp_path / "junit.xml")
    assert result.passed, result.summary()
    assert [r["verdict"] for r in result.rows] == ["PASSED"] * 3
    assert all(r["backend"] == "right_register" for r in result.rows)
    # the cut-out is refused (fn raises), as the reference refuses it
    assert any("refused, as the reference" in n for r in result.rows for n in r["notes"])
    assert len(ET.parse(tmp_path / "junit.xml").getroot().findall(".//testcase")) == 3


def test_wrong_fn_fails_with_reason():
    with pytest.raises(AssertionError, match="register-aia_171_level1") as e:
        assert_matches_reference(shifted_register, stage="register", cases=["register-aia_171_level1"])
    assert "max_abs_over_max" in str(e.value) and "--candidate 'shifted_register:register=" in str(e.value)
    # a bound the user names: a 1-px shift is far outside 1e-3 of max too
    result = aiaccel.validate.check(shifted_register, stage="register", cases=["register-aia_171_level1"], bound=1e-3)
    assert result.returncode == 1 and result.failed[0]["tolerance"]["bound"] == 1e-3


def test_unimportable_fn_is_refused_before_running():
    try:
        import cloudpickle  # noqa: F401
    except ImportError:
        with pytest.raises(TypeError, match="cannot be imported"):
            aiaccel.validate.check(lambda d, h, **k: d, stage="register", cases=["register-aia_171_level1"])
    with pytest.raises(ValueError, match="stage"):
        aiaccel.validate.check(right_register, stage="prep")
