"""pytest plugin: run aiapy's own tests with aiaccel in place of aiapy's psf, deconvolve and register.

    python -m pytest -p aiaccel.testing.aiapy_plugin --pyargs aiapy -m "not remote_data"

(-m "not remote_data": without network; pytest-remotedata is not in .venv. tools/aiapy-suite runs it
with pytest-remotedata instead, for aiapy 0.10.2 and 0.12.1, stock and substituted.)

Before collection it replaces aiapy.psf.psf (and calculate_psf, which deconvolve uses when psf=None),
aiapy.psf.deconvolve and aiapy.calibrate.register, in the packages and in the modules that define them,
so that test modules importing them by name get aiaccel's. The replacements have the installed aiapy's
signatures: 0.10.2 (psf and deconvolve with use_gpu) or, from aiapy 0.11 on, 0.12.1 (calculate_psf;
psf deprecated in its favour; no use_gpu; 0.12.1's PSF). Keyword arguments aiaccel does not compute
(use_gpu, method other than "scipy") keep aiapy's semantics: register(method=M) for a method other than
"scipy"/"aiaccel" runs aiapy's own register with that rotation method. At the end it lists the test
functions that called aiaccel (--aiaccel-calls=FILE also writes them as JSON; tools/aiapy-suite).
"""
import functools
import json
import sys

import pytest

_calls = {}  # test node id -> set of substituted function names
_current = [None]


def _aiapy_version():
    """The aiapy semantics to follow: "0.12.1" from aiapy 0.11 on (calculate_psf, no use_gpu), else "0.10.2"."""
    import aiapy

    major, minor = (int(p) for p in aiapy.__version__.split(".")[:2])
    return "0.12.1" if (major, minor) >= (0, 11) else "0.10.2"


def _substitute():
    import astropy.units as u

    import aiapy.calibrate
    import aiapy.psf
    try:
        from aiapy.utils.decorators import validate_channel
    except ImportError:  # aiapy < 0.11
        from aiapy.util.decorators import validate_channel

    import aiaccel
    from aiaccel import _maps

    version = _aiapy_version()
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

    # aiapy's own signatures and argument checks (quantity_input, validate_channel) around aiaccel's
    # compute, for the installed aiapy's version.
    euv = [94, 131, 171, 193, 211, 304, 335] * u.angstrom

    def register(smap, *, missing=None, order=3, method="scipy"):
        return aiaccel.register(smap, missing=missing, order=order, method=None if method == "scipy" else method)

    if version == "0.10.2":
        @u.quantity_input
        @validate_channel("channel", valid_channels=euv)
        def psf(channel: u.angstrom, *, use_preflightcore=False, diffraction_orders=None, use_gpu=True):
            return aiaccel.psf(channel, use_preflightcore=use_preflightcore, diffraction_orders=diffraction_orders,
                               use_gpu=use_gpu, aiapy_version=version)

        def deconvolve(smap, *, psf=None, iterations=25, clip_negative=True, use_gpu=True):
            return aiaccel.deconvolve(smap, psf=psf, iterations=iterations, clip_negative=clip_negative,
                                      use_gpu=use_gpu, aiapy_version=version)

        calculate_psf = psf = recorded("psf", psf)
    else:
        from sunpy.util.decorators import deprecated

        @u.quantity_input
        @validate_channel("channel", valid_channels=euv)
        def calculate_psf(channel: u.angstrom, *, use_preflightcore=False, diffraction_orders=None):
            return aiaccel.calculate_psf(channel, use_preflightcore=use_preflightcore,
                                         diffraction_orders=diffraction_orders, aiapy_version=version)

        def deconvolve(smap, *, psf=None, iterations=25, clip_negative=True):
            return aiaccel.deconvolve(smap, psf=psf, iterations=iterations, clip_negative=clip_negative,
                                      aiapy_version=version)

        calculate_psf = recorded("calculate_psf", calculate_psf)

        # aiapy 0.12.1's psf: calculate_psf under its deprecation warning.
        @deprecated("0.11.0", alternative="calculate_psf")
        @u.quantity_input
        def psf(channel: u.angstrom, *, use_preflightcore=False, diffraction_orders=None):
            return calculate_psf(channel, use_preflightcore=use_preflightcore, diffraction_orders=diffraction_orders)

        psf = recorded("psf", psf)
        for mod in (aiapy.psf, psf_mod):
            mod.calculate_psf = calculate_psf

    deconvolve = recorded("deconvolve", deconvolve)
    register = recorded("register", register)
    for mod in (aiapy.psf, psf_mod):
        mod.psf = psf
    deconvolve_mod.calculate_psf = calculate_psf
    for mod in (aiapy.psf, deconvolve_mod):
        mod.deconvolve = deconvolve
    for mod in (aiapy.calibrate, prep):
        mod.register = register


def pytest_addoption(parser):
    parser.addoption("--aiaccel-calls", metavar="FILE", default=None,
                     help="write {test id: [substituted functions it called]} as JSON to FILE")


def pytest_configure(config):
    _substitute()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current[0] = item.nodeid
    yield
    _current[0] = None


def pytest_terminal_summary(terminalreporter, config):
    path = config.getoption("--aiaccel-calls")
    if path:
        with open(path, "w") as f:
            json.dump({k: sorted(v) for k, v in sorted(_calls.items())}, f, indent=1)
    terminalreporter.section(f"aiaccel substituted for aiapy {_aiapy_version()} semantics")
    if not _calls:
        terminalreporter.write_line("no test called a substituted function")
    for nodeid in sorted(_calls):
        terminalreporter.write_line(f"{nodeid}: {', '.join(sorted(_calls[nodeid]))}")
