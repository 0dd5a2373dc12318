"""pytest plugin: run aiapy's own tests with aiaccel in place of aiapy's psf, deconvolve and register.

    python -m pytest -p aiaccel.testing.aiapy_plugin --pyargs aiapy -m "not remote_data"

(-m "not remote_data": without network; pytest-remotedata is not in .venv.)

Before collection it replaces aiapy.psf.psf (and calculate_psf, which deconvolve uses when psf=None),
aiapy.psf.deconvolve and aiapy.calibrate.register, in the packages and in the modules that define them,
so that test modules importing them by name get aiaccel's. Keyword arguments aiaccel does not know
(use_gpu, method other than "scipy") keep aiapy's semantics: register(method=M) for a method other than
"scipy"/"aiaccel" runs aiapy's own register with that rotation method. At the end it lists the test
functions that called aiaccel.
"""
import functools
import sys

import pytest

_calls = {}  # test node id -> set of substituted function names
_current = [None]


def _substitute():
    import aiapy.calibrate
    import aiapy.psf

    import aiaccel
    from aiaccel import _maps

    prep = sys.modules["aiapy.calibrate.prep"]
    psf_mod = sys.modules["aiapy.psf.psf"]
    deconvolve_mod = sys.modules["aiapy.psf.deconvolve"]
    _maps._AIAPY_ORIGINALS["register"] = prep.register

    def recorded(name, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if _current[0] is not None:
                _calls.setdefault(_current[0], set()).add(name)
            return fn(*args, **kwargs)

        return wrapper

    def register(smap, *, missing=None, order=3, method="scipy"):
        return aiaccel.register(smap, missing=missing, order=order, method=None if method == "scipy" else method)

    psf = recorded("psf", aiaccel.psf)
    deconvolve = recorded("deconvolve", aiaccel.deconvolve)
    register = recorded("register", register)
    for mod in (aiapy.psf, psf_mod):
        mod.psf = psf
    deconvolve_mod.calculate_psf = psf
    for mod in (aiapy.psf, deconvolve_mod):
        mod.deconvolve = deconvolve
    for mod in (aiapy.calibrate, prep):
        mod.register = register


def pytest_configure(config):
    _substitute()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current[0] = item.nodeid
    yield
    _current[0] = None


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("aiaccel substituted for aiapy")
    if not _calls:
        terminalreporter.write_line("no test called a substituted function")
    for nodeid in sorted(_calls):
        terminalreporter.write_line(f"{nodeid}: {', '.join(sorted(_calls[nodeid]))}")
