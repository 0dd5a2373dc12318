"""Driver side of tools/oracle/peers.py: where each peer runs (venv, worker subprocess or the aiaccel
CLI), the lists of peers, one row per peer and its verdict against aiaccel's reference. The stages
themselves: peers.py (the 4096²/2048² frame) and peers_synoptic.py (the six real 1024² EUV files).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import peers_report as pr

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOLERANCES = REPO / "validate" / "tolerances.cpp"
ITERATIONS = 25  # Richardson-Lucy iterations of the deconvolve stage
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1"}

# Python register peers: (label, implementation, venv, worker peer, threads, note). The frame's register
# stage and the synoptic one run this same list.
REGISTER_PEERS = [
    ("aiapy 0.10.2 (sunpy scipy, order 3)", "aiapy.calibrate.register", "peers", "aiapy-register", 1, ""),
    ("aiapy 0.12.1 (sunpy scipy, order 3)", "aiapy.calibrate.register", "0.12.1", "aiapy-register", 1, ""),
    ("aiapy 0.10.2 + sunpy scikit-image", "register(method='scikit-image')", "peers", "aiapy-register-skimage", 1, ""),
    ("aiapy 0.10.2 + sunpy opencv", "register(method='opencv')", "peers", "aiapy-register-opencv", 1, ""),
    ("aiapy 0.10.2 order 1 (bilinear)", "register(order=1)", "peers", "aiapy-register-order1", 1, ""),
    ("dask-image affine_transform, 2 workers", "dask_image.ndinterp.affine_transform via register", "peers",
     "dask-image-register", 2, "sunpy's geometry, dask-image kernel (chunks: a quarter of the frame); dask-image's "
     "default prefilter=False: the order-3 spline runs on the raw samples, not on spline coefficients (a blur)"),
    ("dask-image affine_transform prefilter=True, 2 workers", "dask_image.ndinterp.affine_transform(prefilter=True) "
     "via register", "peers", "dask-image-register-prefilter", 2,
     "as the row above, with dask-image's chunked spline_filter first (scipy prefilters the whole frame)"),
    ("OpenCV-only INTER_CUBIC", "cv2.warpAffine", "peers", "opencv-only-cubic", 1,
     "no sunpy; Sun centre at the array centre; aiapy's target scale"),
    ("OpenCV-only INTER_LANCZOS4", "cv2.warpAffine", "peers", "opencv-only-lanczos4", 1,
     "no sunpy; Sun centre at the array centre; aiapy's target scale"),
]
# Python deconvolve peers: (label, implementation, venv, worker peer, repetitions (None: --repetitions), note).
DECONVOLVE_PEERS = [
    ("aiapy 0.10.2 deconvolve (numpy)", "aiapy.psf.deconvolve", "peers", "aiapy-deconvolve", 0, ""),
    ("aiapy 0.12.1 deconvolve (numpy)", "aiapy.psf.deconvolve", "0.12.1", "aiapy-deconvolve", 0, ""),
    ("aiapy 0.12.1 deconvolve (JAX, CPU)", "aiapy.psf.deconvolve (jax.numpy, jit)", "jax", "aiapy-deconvolve-jax", 1,
     "one warm-up (jit) run not timed"),
    ("skimage richardson_lucy", "skimage.restoration.richardson_lucy", "peers", "skimage-richardson-lucy", 0,
     "its own RL: start 0.5, linear (zero-padded) convolution; PSF without its first row/column (odd size, centred)"),
]
# aiaccel's rows: (label, CLI options, precision, threads, note); the first one is the reference.
AIACCEL_CONFIGS = [("aiaccel reference f64", ["--backend", "reference"], "f64", 1, "the reference; whole CLI run")] + [
    (f"aiaccel cpu {p} {t}t", ["--backend", "cpu", "--precision", p, "--threads", str(t)], p, t, "whole CLI run")
    for p, t in (("f64", 1), ("f64", 2), ("f32", 2))]


def log(msg: str) -> None:
    print(f"peers: {msg}", file=sys.stderr, flush=True)


def venv_python(name: str, oracle_dirs) -> Path | None:
    for d in oracle_dirs:
        p = Path(d) / name / "bin" / "python"
        if p.exists():
            return p
    return None


def cli_labels(stderr: str) -> dict:
    """The Highway target (register) or FFT library (deconvolve) that the CLI's last line names."""
    out = {}
    for key in ("target", "fft"):
        m = re.search(r"· %s (.+)$" % key, stderr.strip(), re.M)
        if m:
            out[key] = m.group(1).strip()
    return out


class Peers:
    """Runs peers: aiaccel CLI runs and Python workers (one subprocess per peer and list of inputs)."""

    def __init__(self, aiaccel: Path, work: Path, venvs: dict, repetitions: int, timeout_s: float):
        self.aiaccel, self.work, self.venvs = aiaccel, work, venvs
        self.repetitions, self.timeout_s = repetitions, timeout_s

    def cli(self, argv, repetitions):
        """Time a whole CLI run; the first run warms the page cache and the FFTW wisdom."""
        times, p = [], None
        for _ in range(repetitions + 1):
            t0 = time.perf_counter()
            p = subprocess.run([str(self.aiaccel), *argv], capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if p.returncode != 0:
                raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip()[-400:]}")
        return {"time_s": statistics.median(times[1:]), "times_s": times, **cli_labels(p.stderr)}

    def python(self, venv: str, peer: str, inputs, outputs, psf=None, repetitions=None):
        """Run one Python peer over `inputs` in the venv that holds it: one timing dict per input."""
        py = self.venvs.get(venv)
        if py is None:
            raise RuntimeError("venv not found (tools/oracle/setup; jax: tools/oracle/setup jax)")
        timing = Path(outputs[0]).with_suffix(".json")
        env = dict(os.environ, **(ONE_THREAD if "dask" not in peer else {}))
        reps = self.repetitions if repetitions is None else repetitions
        argv = [str(py), str(HERE / "peers.py"), "worker", peer, "--input", *map(str, inputs), "--output",
                *map(str, outputs), "--timing", str(timing), "--repetitions", str(reps)] + (["--psf", str(psf)] if psf else [])
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=self.timeout_s)
        if p.returncode != 0:
            raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}")
        return [dict(t, output=str(o)) for t, o in zip(json.loads(timing.read_text()), outputs)]


def attempt(stage: str, label: str, impl: str, precision: str, threads: int, run, note: str = "") -> dict:
    """One peer's row: run() gives its timing (and output); a failure is the row's error, never the run's."""
    log(f"{stage}: {label} ...")
    row = {"label": label, "implementation": impl, "precision": precision, "threads": threads, "note": note, "error": None}
    try:
        row.update(run())
        log(f"{stage}: {label}: {row['time_s']:.3g} s")
    except Exception as exc:  # noqa: BLE001 - a peer's failure is its row
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["note"] = (note + "; " if note else "") + "could not run: " + row["error"]
        log(f"{stage}: {label}: {row['error']}")
    return row


def judge(rows, ref, ref_header, stage: str) -> None:
    """Metrics and verdict of each row (popping its 'output') against the reference output `ref`
    (None: every row MISTRUSTED); the bound is validate's for `stage` and the row's precision."""
    import numpy as np

    bounds = {p: pr.read_bound(TOLERANCES, stage, p)[0] for p in ("f64", "f32")}
    disk = pr.disk_mask(ref.shape, ref_header) if ref is not None else None
    for row in rows:
        out = row.pop("output", None)
        if row["error"] or ref is None:
            row["verdict"] = "NOT RUN" if row["error"] else "MISTRUSTED (no reference)"
            continue
        arr = np.load(out) if out.endswith(".npy") else read_fits(out)[0]
        row["metrics"] = pr.metrics(arr, ref, disk)
        row["bound"] = bounds[row["precision"]]
        row["verdict"] = pr.verdict(row["metrics"], row["bound"])


def read_fits(path):
    import numpy as np
    from astropy.io import fits

    with fits.open(path) as hl:
        hl.verify("silentfix+ignore")  # e.g. the synoptic files' `OSCNMEAN= nan`, copied as is by aiaccel
        for hdu in hl:
            if hdu.data is not None:
                return np.asarray(hdu.data, dtype=np.float64), dict(hdu.header)
    raise ValueError(f"{path}: no image")


def read_reference(path: Path, stage: str):
    """The reference output and its header, or (None, None) when the reference run left none."""
    try:
        return read_fits(path)
    except Exception as exc:  # noqa: BLE001
        log(f"{stage}: no reference output: {exc}")
        return None, None
