"""aiaccel.testing.aiapy_plugin: the substitutes have the installed aiapy's signatures (names, kinds,
defaults) and warning classes, and are what aiapy's modules and packages hold afterwards. (aiapy's whole
suite, stock vs substituted, for 0.10.2 and 0.12.1: tools/aiapy-suite.)"""
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("aiapy")

CHECK = textwrap.dedent('''
    import inspect, sys, warnings
    import numpy as np
    import aiapy, aiapy.psf, aiapy.calibrate

    def params(f):
        return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]

    psf_mod, decon_mod, prep = (sys.modules[m] for m in ("aiapy.psf.psf", "aiapy.psf.deconvolve", "aiapy.calibrate.prep"))
    names = [("psf", aiapy.psf, "psf"), ("deconvolve", aiapy.psf, "deconvolve"), ("register", aiapy.calibrate, "register")]
    if hasattr(psf_mod, "calculate_psf"):
        names.append(("calculate_psf", psf_mod, "calculate_psf"))
    before = {n: (getattr(m, a), params(getattr(m, a))) for n, m, a in names}
    from aiaccel.testing import aiapy_plugin
    aiapy_plugin._substitute()
    for n, m, a in names:
        new = getattr(m, a)
        assert new is not before[n][0], n
        assert params(new) == before[n][1], (n, params(new), before[n][1])
    assert aiapy.psf.psf is psf_mod.psf and aiapy.psf.deconvolve is decon_mod.deconvolve
    assert aiapy.calibrate.register is prep.register
    assert decon_mod.calculate_psf is getattr(psf_mod, "calculate_psf", psf_mod.psf)
    try:
        from aiapy.utils import AIApyUserWarning
    except ImportError:
        from aiapy.util import AIApyUserWarning
    import sunpy.map, astropy.units as u
    m = sunpy.map.Map(sys.argv[1])
    neg = m._new_instance(np.where(m.data < 1, -1.0, m.data), m.meta)
    p = np.zeros(m.data.shape); p[m.data.shape[0] // 2, m.data.shape[1] // 2] = 1
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        aiapy.psf.deconvolve(neg, psf=p, iterations=1, clip_negative=False)
    assert any(issubclass(x.category, AIApyUserWarning) for x in w), [str(x.message) for x in w]
    try:
        aiapy.psf.psf(1600 * u.angstrom)
    except ValueError as e:
        assert "not in list of valid channels" in str(e)
    else:
        raise AssertionError("psf(1600 A) did not raise")
    print("ok", aiapy.__version__, aiapy_plugin._aiapy_version())
''')


def test_substitutes_have_aiapys_signatures_and_warnings():
    from conftest import DATA

    r = subprocess.run([sys.executable, "-c", CHECK, str(DATA / "aia_171_level1.fits")], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok ")
