"""python -m aiaccel.bench: aiapy vs aiaccel per stage inside one Python process, on the same Map.

Stages: register on the real 2048² file and on the derived 4096² input (`aiaccel derive`), deconvolve
(25 iterations, 4096², both given the same 171 Å PSF computed by aiaccel), psf (one channel; aiapy's
only with --with-aiapy-psf: minutes). For each aiaccel call it also reports the binding's overhead,
as a % of the C++ stage time (measured inside the extension with the GIL released): "binding" is the
call's wall time minus the stage and minus the pixel conversions (input dtype / byte order / layout to
float64, float64 output to float32: done in C++ with the GIL released, none for native C-contiguous
float64), which are shown on their own; "+convert" counts them as overhead too. Each aiaccel call runs
--repeat times; the row shows the fastest. Prints a table and writes JSON.
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
import warnings

import aiaccel
from aiaccel import _core
from aiaccel._cli import find_cli

REAL = "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits"


def _real_file():
    root = pathlib.Path(__file__).resolve()
    for d in [os.environ.get("AIA_DATA_DIR")] + [str(p / "shared" / "aia") for p in root.parents][:6] + \
             [str(p / "testdata" / "aia") for p in root.parents][:6]:
        if d and (pathlib.Path(d) / REAL).is_file():
            return pathlib.Path(d) / REAL
    sys.exit(f"aiaccel.bench: {REAL} not found (set AIA_DATA_DIR)")


def _load(path):
    import sunpy.map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sunpy.map.Map(path)


def _timed(fn):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn()
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m aiaccel.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="aiaccel threads (default 2)")
    ap.add_argument("--backend", default="cpu", choices=["cpu", "reference"])
    ap.add_argument("--iterations", type=int, default=25)
    ap.add_argument("--channel", type=int, default=171, help="PSF channel")
    ap.add_argument("--with-aiapy-psf", action="store_true", help="also time aiapy.psf.psf (slow)")
    ap.add_argument("--skip-aiapy-deconvolve", action="store_true")
    ap.add_argument("--skip-aiapy", action="store_true", help="time aiaccel only (no aiapy calls)")
    ap.add_argument("--repeat", type=int, default=3, help="aiaccel calls per row; the fastest is shown (default 3)")
    ap.add_argument("--json", default="python-bench.json", help="output JSON (default python-bench.json)")
    a = ap.parse_args(argv)

    import aiapy
    from aiapy.calibrate import register as aiapy_register
    from aiapy.psf import deconvolve as aiapy_deconvolve

    real = _real_file()
    tmp = tempfile.TemporaryDirectory()
    derived = pathlib.Path(tmp.name) / "derived-4096.fits"
    subprocess.run([find_cli(), "derive", str(real), "-o", str(derived)], check=True, capture_output=True)
    m2048, m4096 = _load(real), _load(derived)
    kw = {"backend": a.backend, "threads": a.threads}
    rows = []

    def row(stage, inp, aiapy_fn, aiaccel_fn):
        runs = []
        for _ in range(max(1, a.repeat)):
            wall = _timed(aiaccel_fn)
            runs.append((wall, _core._last_compute_seconds(), _core._last_convert_seconds()))
        t_aiaccel, compute, convert = min(runs)
        t_aiapy = _timed(aiapy_fn) if aiapy_fn and not a.skip_aiapy else None
        r = {"stage": stage, "input": inp, "aiapy_s": t_aiapy, "aiaccel_s": t_aiaccel, "compute_s": compute,
             "convert_s": convert, "overhead_s": t_aiaccel - compute - convert,
             "overhead_pct": 100 * (t_aiaccel - compute - convert) / compute,
             "overhead_with_convert_pct": 100 * (t_aiaccel - compute) / compute,
             "speedup": t_aiapy / t_aiaccel if t_aiapy else None,
             "overhead_pct_all_runs": [100 * (w - c - v) / c for w, c, v in runs]}
        rows.append(r)
        print(_fmt(r), flush=True)

    print(f"input dtypes: real {m2048.data.dtype} {m2048.data.shape}, derived {m4096.data.dtype} {m4096.data.shape}")
    print(_header(), flush=True)
    psf_aiapy = None
    if a.with_aiapy_psf:
        from aiapy.psf import psf as aiapy_psf

        psf_aiapy = lambda: aiapy_psf(a.channel * __import__("astropy.units").units.angstrom)  # noqa: E731
    row(f"psf {a.channel} Å", "4096² PSF", psf_aiapy, lambda: aiaccel.psf(a.channel, **kw))
    row("register", "real 2048²", lambda: aiapy_register(m2048), lambda: aiaccel.register(m2048, **kw))
    row("register", "derived 4096²", lambda: aiapy_register(m4096), lambda: aiaccel.register(m4096, **kw))
    psf = aiaccel.psf(a.channel, **kw)
    row(f"deconvolve {a.iterations} it", "derived 4096²",
        None if a.skip_aiapy_deconvolve else lambda: aiapy_deconvolve(m4096, psf=psf, iterations=a.iterations),
        lambda: aiaccel.deconvolve(m4096, psf=psf, iterations=a.iterations, **kw))
    out = {"tool": "python -m aiaccel.bench", "aiaccel": aiaccel.__version__, "aiapy": aiapy.__version__,
           "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
           "threads": a.threads, "backend": a.backend, "real_input": real.name, "rows": rows,
           "repeat": a.repeat,
           "notes": "aiapy and aiaccel in one process on the same Map; aiaccel_s is the Python call's wall time "
                    "(fastest of repeat), compute_s the C++ stage time inside it (GIL released), convert_s the "
                    "binding's pixel conversions (C++, GIL released); overhead = aiaccel_s - compute_s - convert_s, "
                    "overhead_with_convert = aiaccel_s - compute_s"}
    pathlib.Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {a.json}")


def _header():
    return (f"{'stage':<18} {'input':<14} {'aiapy s':>9} {'aiaccel s':>10} {'speedup':>8} {'C++ s':>9} "
            f"{'convert s':>10} {'binding s':>10} {'binding':>8} {'+convert':>9}")


def _fmt(r):
    aiapy_s = f"{r['aiapy_s']:.3f}" if r["aiapy_s"] is not None else "-"
    speed = f"{r['speedup']:.1f}x" if r["speedup"] else "-"
    return (f"{r['stage']:<18} {r['input']:<14} {aiapy_s:>9} {r['aiaccel_s']:>10.3f} {speed:>8} {r['compute_s']:>9.3f} "
            f"{r['convert_s']:>10.4f} {r['overhead_s']:>10.4f} {r['overhead_pct']:>7.2f}% "
            f"{r['overhead_with_convert_pct']:>8.2f}%")


if __name__ == "__main__":
    main()
