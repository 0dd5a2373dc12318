#!/usr/bin/env python3
"""Time aiapy's PSF, deconvolution and registration for `aiaccel bench --baseline-aiapy`.

Run by aiaccel (bench/aiapy_baseline.cpp) with the python of one oracle venv, in the same run and on
the same inputs as the C++ backends:

    .oracle/venv-0.12.1/bin/python tools/oracle/bench_aiapy.py --flavour 0.12.1 --stages psf,deconvolve,register \\
        --psf OUT/inputs/psf-171.fits --input testdata/aia/<2048^2 file> --out OUT/aiapy-0.12.1.json

Flavours: 0.10.2 and 0.12.1 (numpy; jax must NOT be importable) and 0.12.1-jax (jax installed, so
aiapy 0.12.1's psf module runs on jax.numpy with jit: its accelerated path, on this machine's CPU).
What is timed (one 4096^2 PSF channel, 25 RL iterations, register to level 1.5):
  psf        aiapy.psf.calculate_psf(171 A) (0.12.1) / aiapy.psf.psf(171 A, use_gpu=False) (0.10.2)
  deconvolve aiapy.psf.deconvolve(derived_map, psf=<the PSF given with --psf>, iterations=25)
  register   aiapy.calibrate.register(map) on the derived 4096^2 map and on the real 2048^2 file
The derived map is built from --input by the rule of testdata/golden/DERIVED.md (2x2 pixel
replication, CDELT/2, CRPIX' = 2(CRPIX-0.5)+0.5); the sha256 of its pixels is compared with
--expect-derived-sha256 (aiaccel's), so both sides provably time the same input.
Timing: wall clock (perf_counter) of complete calls, results forced to numpy (jax is asynchronous).
One warm-up call first (lazy imports, jit compilation, first-touch pages), then --repetitions calls,
median reported; when the warm-up alone took longer than --max-warmup-s it is the only, cold, run —
except for the jax flavour, whose warm-up always runs so that jit compilation is never timed.
One thread: OMP/OPENBLAS/MKL/NUMEXPR_NUM_THREADS=1 (common.THREAD_ENV, as the goldens script) and the
process pinned to one CPU (sched_setaffinity), which also holds XLA's thread pool to one core.
numpy's native SIMD dispatch is left on (the fastest numpy, unlike the goldens' pinned dispatch).
Progress goes to stderr; the JSON (written atomically) is what aiaccel reads.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

# Pin to one CPU before anything starts threads (inherited by the re-exec below).
_cpus = sorted(os.sched_getaffinity(0))
os.sched_setaffinity(0, {_cpus[-1]})
common.ensure_cpu_env(disable_features=False)

ITERATIONS = 25
CHANNEL = 171


def log(msg: str) -> None:
    print(f"bench_aiapy: {msg}", file=sys.stderr, flush=True)


def reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(fn, repetitions: int, max_warmup_s: float) -> dict:
    import numpy as np

    def once():
        t0 = time.perf_counter()
        out = fn()
        np.asarray(out)  # jax: wait for the result
        return time.perf_counter() - t0

    reset_peak_rss()
    warm = once()
    times = [] if warm > max_warmup_s else [once() for _ in range(max(repetitions, 1))]
    runs = len(times)
    if not times:
        times = [warm]
    return {"time_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "warmup_s": warm,
            "runs": runs, "times_s": times, "peak_rss_mib": peak_rss_mib()}


def derive_full_res(smap):
    """The 4096^2 derived map of testdata/golden/DERIVED.md from the 2048^2 low-res file."""
    import numpy as np
    import sunpy.map

    d = np.asarray(smap.data)
    if d.shape != (2048, 2048):
        raise ValueError(f"--input must be 2048x2048, got {d.shape}")
    out = np.repeat(np.repeat(d.astype(np.float64), 2, axis=0), 2, axis=1)
    meta = copy.deepcopy(smap.meta)
    meta["naxis1"] = meta["naxis2"] = 4096
    for ax in (1, 2):
        meta[f"cdelt{ax}"] = meta[f"cdelt{ax}"] / 2.0
        meta[f"crpix{ax}"] = 2.0 * (meta[f"crpix{ax}"] - 0.5) + 0.5
    meta["derived"] = "2x2 replication of 2048^2 lowres 1600A file; NOT a real observation"
    return sunpy.map.Map(out, meta)


def threads_info() -> dict:
    info = {"env": {k: os.environ.get(k) for k in common.THREAD_ENV}, "affinity": sorted(os.sched_getaffinity(0)),
            "os_threads": len(os.listdir("/proc/self/task"))}
    if importlib.util.find_spec("threadpoolctl"):
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "num_threads")} for p in threadpool_info()]
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flavour", required=True, choices=["0.10.2", "0.12.1", "0.12.1-jax"])
    ap.add_argument("--stages", default="psf,deconvolve,register")
    ap.add_argument("--psf", required=True, help="FITS file: the PSF deconvolve is given")
    ap.add_argument("--input", required=True, help="the real 2048x2048 AIA file")
    ap.add_argument("--expect-derived-sha256", default="")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--max-warmup-s", type=float, default=20.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    stages = [s for s in args.stages.split(",") if s]

    want_jax = args.flavour.endswith("-jax")
    have_jax = importlib.util.find_spec("jax") is not None
    if want_jax != have_jax:
        sys.exit(f"flavour {args.flavour}: jax is {'not ' if not have_jax else ''}importable in {sys.prefix}; "
                 "use the matching venv (tools/oracle/setup all / jax)")
    if importlib.util.find_spec("cupy") is not None:
        sys.exit("cupy is importable: aiapy would use it; use a clean oracle venv")

    import numpy as np
    import scipy
    import astropy.units as u
    import sunpy.map
    from astropy.io import fits

    import aiapy
    import aiapy.psf
    from aiapy.calibrate import register

    version = args.flavour.split("-")[0]
    if aiapy.__version__ != version:
        sys.exit(f"flavour {args.flavour}: this venv has aiapy {aiapy.__version__}")
    accelerator = "none"
    if want_jax:
        import jax

        backend_np = getattr(aiapy.psf, "np", None)
        if getattr(backend_np, "__name__", "") != "jax.numpy":
            sys.exit("jax is installed but aiapy.psf does not use it")
        accelerator = f"jax {jax.__version__} ({jax.default_backend()}, devices {[str(d) for d in jax.devices()]})"

    real = sunpy.map.Map(args.input)
    derived = derive_full_res(real)
    sha = hashlib.sha256(np.ascontiguousarray(derived.data, dtype="<f8").tobytes()).hexdigest()
    same_input = not args.expect_derived_sha256 or sha == args.expect_derived_sha256
    if not same_input:
        log(f"WARNING: derived input sha256 {sha} differs from aiaccel's {args.expect_derived_sha256}")
    psf_given = np.asarray(fits.getdata(args.psf), dtype=np.float64)

    computed = {}  # the 0.10.2 PSF, kept for tools/bench/prep-throughput's aiapy loop (saved after timing)
    if version == "0.10.2":
        def psf_call():
            computed["psf"] = aiapy.psf.psf(CHANNEL * u.angstrom, use_preflightcore=False, use_gpu=False)
            return computed["psf"]
        psf_text = f"aiapy.psf.psf({CHANNEL}*u.angstrom, use_gpu=False)"
        deconv_kw = {"use_gpu": False}
    else:
        def psf_call():
            return aiapy.psf.calculate_psf(CHANNEL * u.angstrom)
        psf_text = f"aiapy.psf.calculate_psf({CHANNEL}*u.angstrom)"
        deconv_kw = {}

    jobs = []
    if "psf" in stages:
        jobs.append(("psf", "psf-171", psf_call, 4096 * 4096, psf_text))
    if "deconvolve" in stages:
        jobs.append(("deconvolve", "derived-4096",
                     lambda: aiapy.psf.deconvolve(derived, psf=psf_given, iterations=ITERATIONS, **deconv_kw).data,
                     derived.data.size, f"aiapy.psf.deconvolve(derived_map, psf=given, iterations={ITERATIONS})"))
    if "register" in stages:
        jobs.append(("register", "derived-4096", lambda: register(derived).data, derived.data.size, "aiapy.calibrate.register(derived_map)"))
        jobs.append(("register", "real-2048", lambda: register(real).data, real.data.size, "aiapy.calibrate.register(real_map)"))

    results = []
    for stage, case, fn, pixels, call in jobs:
        log(f"aiapy {args.flavour}: {stage} {case}: {call} ...")
        rec = {"stage": stage, "case": case, "pixels": pixels, "notes": [f"call: {call}"], "error": None}
        if case == "derived-4096":
            rec["input_sha256"] = sha
            if not same_input:
                rec["notes"].append(f"derived input sha256 {sha} differs from aiaccel's")
        try:
            # jax: never time the compilation (a measured run always follows the warm-up)
            rec.update(measure(fn, args.repetitions, float("inf") if want_jax else args.max_warmup_s))
            log(f"aiapy {args.flavour}: {stage} {case}: {rec['time_s']:.3f} s (warm-up {rec['warmup_s']:.3f} s)")
        except Exception as exc:  # recorded as a FAILED row
            rec["error"] = f"{type(exc).__name__}: {exc}"
            log(traceback.format_exc())
        results.append(rec)

    if "psf" in computed:  # aiapy's own output, so the level-1.6 loop need not spend ~8 minutes on it again.
        # Named as golden_aiapy.py names a PSF made with numpy's native SIMD dispatch (as here), never as
        # the pinned-dispatch PSF the goldens load.
        path = common.REPO_ROOT / ".oracle" / "cache" / f"psf-{version}-{CHANNEL}-native-simd.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(computed["psf"], dtype=np.float64))
        tmp.replace(path)
        log(f"aiapy {args.flavour}: PSF saved to {path} (for tools/bench/prep-throughput)")

    threads = threads_info()
    threads_note = (f"1 thread: {' '.join(f'{k}={v}' for k, v in threads['env'].items())}, pinned to CPU {threads['affinity']}; "
                    f"numpy's FFT (pocketfft) and scipy.ndimage are single-threaded; {threads['os_threads']} OS threads after the runs")
    doc = {"flavour": args.flavour, "aiapy_version": aiapy.__version__, "accelerator": accelerator,
           "python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
           "threads": threads, "threads_note": threads_note, "derived_sha256": sha, "same_input": same_input,
           "results": results}
    out = Path(args.out)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    tmp.replace(out)
    print(json.dumps(doc, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
