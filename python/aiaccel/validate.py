"""Validate a Python implementation of an aiapy stage against aiaccel's reference, case by case.

    result = aiaccel.validate.check(my_register, stage="register", cases="quick")
    assert result.passed, result.summary()

`check` drives ``aiaccel validate --candidate`` (the same cases, metrics, tolerance table, rows and
report as the built-in backends): it writes a small candidate script that imports ``fn`` in a fresh
interpreter, reads the stage's input FITS, calls ``fn`` and writes its result. What ``fn`` receives:

* register: ``fn(data, header, *, order, missing)`` -> the level-1.5 array (in the dtype aiapy gives:
  float32 for float32 input), or ``(array, header)``, or anything with ``.data`` (a sunpy Map).
  ``header`` is an astropy Header. Raising an exception refuses the input (as aiapy refuses a cut-out).
* deconvolve: ``fn(image, psf, *, iterations)`` -> the deconvolved array.
* psf: ``fn(channel)`` -> the 4096x4096 PSF.

``fn`` must be importable in a fresh interpreter (a module-level function; the caller's sys.path is
passed on), or picklable by value with cloudpickle when that is installed. Reading and writing the FITS
files needs astropy.
"""
import dataclasses
import json
import os
import pickle
import subprocess
import sys
import tempfile

from aiaccel._cli import find_cli

__all__ = ["CheckResult", "check"]

_STAGE_TEMPLATES = {
    "register": "{input} {output} --order {order} --missing {missing}",
    "deconvolve": "{input} {output} --psf {psf} --iterations {iterations}",
    "psf": "{output} --channel {channel}",
}

_SCRIPT = r'''
import argparse, importlib, pickle, sys
sys.path[:0] = {path!r}
import numpy as np
from astropy.io import fits

def load_fn():
    with open({fn_file!r}, "rb") as f:
        return pickle.load(f)

def as_array(out):
    if isinstance(out, tuple):
        out = out[0]
    return np.asarray(getattr(out, "data", out))

p = argparse.ArgumentParser()
p.add_argument("paths", nargs="+")
p.add_argument("--order", type=int)
p.add_argument("--missing", type=float)
p.add_argument("--psf")
p.add_argument("--iterations", type=int)
p.add_argument("--channel", type=int)
p.add_argument("--precision")
a = p.parse_args()
fn = load_fn()
stage = {stage!r}
if stage == "register":
    data, header = fits.getdata(a.paths[0], header=True)
    out = as_array(fn(data, header, order=a.order, missing=a.missing))
elif stage == "deconvolve":
    out = as_array(fn(fits.getdata(a.paths[0]), fits.getdata(a.psf), iterations=a.iterations))
else:
    out = as_array(fn(a.channel))
fits.writeto(a.paths[-1], out, overwrite=True)
'''


@dataclasses.dataclass
class CheckResult:
    """What ``aiaccel validate`` said: ``passed`` (exit code 0), the rows of rows.json, its output."""

    returncode: int
    rows: list
    output: str
    out_dir: str

    @property
    def passed(self):
        return self.returncode == 0

    def __bool__(self):
        return self.passed

    @property
    def failed(self):
        return [r for r in self.rows if r.get("verdict") in ("FAILED", "MISTRUSTED")]

    def summary(self):
        if self.returncode not in (0, 1):
            return f"aiaccel validate could not run (exit {self.returncode}):\n{self.output}"
        lines = [f"{len(self.rows)} rows, {len(self.failed)} failed"]
        for r in self.failed:
            lines.append(f"  FAILED {r['stage']} {r['case']} vs {r['against']}: " + "; ".join(r.get("notes", [])[:3]))
            lines.append(f"    repro: {r.get('repro', '')}")
        return "\n".join(lines)


def _pickled(fn, path):
    """fn pickled by reference (a module-level function), else by value with cloudpickle."""
    try:
        data = pickle.dumps(fn)
        if getattr(fn, "__module__", None) == "__main__":
            raise pickle.PicklingError("defined in __main__")
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        try:
            import cloudpickle
        except ImportError:
            raise TypeError(f"{fn!r} cannot be imported by a fresh interpreter ({e}); define it at module level in an "
                            "importable module, or install cloudpickle") from None
        data = cloudpickle.dumps(fn)
    with open(path, "wb") as f:
        f.write(data)


def check(fn, stage="register", cases="quick", *, bound=None, precision="f64", timeout=600, name=None, out=None, junit=None,
          extra_args=(), cli=None):
    """Runs ``aiaccel validate`` with ``fn`` as an external candidate; returns a CheckResult.

    cases: "quick", "full", a case name or a list of them. bound: judge by max|Δ|/max <= bound instead of
    the tolerance table (``--candidate-bound``). precision: "f64" (the strict bounds) or "f32" (fn gets no
    precision argument; its rows are judged with the float32 bounds). out: the output folder (rows.json;
    default a temporary one, kept only when given). junit: also write JUnit XML there.
    """
    if stage not in _STAGE_TEMPLATES:
        raise ValueError(f"stage {stage!r}: expected one of {', '.join(_STAGE_TEMPLATES)}")
    cli = cli or find_cli()
    name = name or "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in getattr(fn, "__name__", "candidate"))[:40] or "candidate"
    with tempfile.TemporaryDirectory(prefix="aiaccel-check-") as tmp:
        fn_file = os.path.join(tmp, "fn.pickle")
        _pickled(fn, fn_file)
        script = os.path.join(tmp, "candidate.py")
        with open(script, "w") as f:
            f.write(_SCRIPT.format(path=list(sys.path), fn_file=fn_file, stage=stage))
        template = f"{_quote(sys.executable)} {_quote(script)} " + _STAGE_TEMPLATES[stage]
        if precision == "f32":
            template += " --precision {precision}"  # run only as float32 (a template without it is f64-only)
        out_dir = out or os.path.join(tmp, "out")
        cmd = [cli, "validate", "--out", out_dir, "--cases", ",".join([cases] if isinstance(cases, str) else cases),
               "--precision", precision, "--candidate", f"{name}:{stage}={template}", "--candidate-timeout", str(timeout)]
        if bound is not None:
            cmd += ["--candidate-bound", f"{stage}={bound!r}"]
        if junit:
            cmd += ["--junit", str(junit)]
        cmd += list(extra_args)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        rows = []
        rows_file = os.path.join(out_dir, "rows.json")
        if proc.returncode in (0, 1) and os.path.exists(rows_file):
            with open(rows_file) as f:
                rows = json.load(f)["rows"]
        return CheckResult(proc.returncode, rows, proc.stdout, out_dir)


def _quote(s):
    return "'" + s.replace("'", "'\\''") + "'"
