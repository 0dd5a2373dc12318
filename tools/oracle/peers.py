#!/usr/bin/env python3
"""Time every peer implementation of register and deconvolve on the same input, judge each against
aiaccel's reference backend (a bitwise port of aiapy 0.10.2), and write reports/peers/ (JSON,
Markdown, HTML with a frontier chart per stage). Run through tools/peers, which makes the venv
(.oracle/venv-peers, tools/oracle/requirements-peers.txt) and builds aiaccel first:

    tools/peers                   # = .oracle/venv-peers/bin/python tools/oracle/peers.py --out reports/peers

Driver mode (default) runs every peer as a subprocess, in the venv that holds its package:
    venv-peers      aiapy 0.10.2 + sunpy 7.0.5 (scipy / scikit-image / opencv rotation), opencv-only,
                    dask-image (default and prefilter=True), scikit-image richardson_lucy
    venv-0.12.1     aiapy 0.12.1 numpy (.oracle/ of this checkout, else of --oracle-dir)
    venv-0.12.1-jax aiapy 0.12.1 with jax on the CPU (tools/oracle/setup jax)
    aiaccel CLI     build/apps/aiaccel register/deconvolve --backend reference|cpu [--precision] [--threads]
Worker mode (`worker PEER ...`) runs one Python peer, timing only the call (input already in memory),
and saves the output as .npy with a JSON of its times. The aiaccel rows are timed as whole CLI runs
(process start + FITS read/write included), so they are upper bounds of the kernel time.

Synoptic stage (default with --size 4096): every register peer on each of the six real 1024² EUV
files of $AIA_DATA_DIR/synoptic (peers_synoptic.py), judged file by file against aiaccel's reference.

Input (every peer, register and deconvolve): --size 4096 (default) the derived 4096² frame that `aiaccel derive` makes
from the real 2048² 1600 Å file (aia_lev1_1600a_..._lowres.fits, testdata/aia or $AIA_DATA_DIR), as
`aiaccel bench` uses; --size 2048 the real file itself. Deconvolve: 25 Richardson-Lucy iterations with
aiapy's 171 Å PSF (aiaccel psf --backend cpu, 4096²; binned 2×2 to 2048² by sum for --size 2048).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

import peers_driver as pd  # the script's folder is on sys.path
import peers_report as pr
import peers_synoptic as ps
from peers_driver import ITERATIONS, REPO, log

INPUT_NAME = "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits"


# =============================================================================================
# worker: one Python peer


def _read_map(path):
    import sunpy.map

    return sunpy.map.Map(path)


def _dask_rotation(prefilter: bool) -> str:
    """Register dask_image.ndinterp.affine_transform as a sunpy rotation method, so aiapy's register
    runs it with sunpy's own geometry: only the interpolation kernel differs. dask-image's default is
    prefilter=False (an order-3 spline evaluated on the raw samples); prefilter=True spline-filters
    the chunks (dask_image.ndinterp.spline_filter, with overlap) first, as scipy does."""
    import dask
    import dask.array as da
    from dask_image.ndinterp import affine_transform
    from sunpy.image.transform import _rotation_registry, add_rotation_function

    name = "dask-image-prefilter" if prefilter else "dask-image"
    if name in _rotation_registry:
        return name

    @add_rotation_function(name, allowed_orders=range(6), handles_clipping=False,
                           handles_image_nans=False, handles_nan_missing=True)
    def _rotation_dask(image, matrix, shift, order, missing, clip):
        img = da.from_array(image.T, chunks=(image.shape[1] // 2, image.shape[0] // 2))
        out = affine_transform(img, matrix, offset=shift, order=order, mode="constant", cval=missing, prefilter=prefilter)
        with dask.config.set(scheduler="threads", num_workers=2):
            return out.compute().T

    return name


def _opencv_only(smap_data, header, interp):
    """Hackweek-style level 1.5 with OpenCV alone: rotate by CROTA2 about the reference pixel, scale
    to aiapy's target plate scale, put the reference pixel at aiapy's output position, warpAffine."""
    import cv2
    import numpy as np

    data = np.asarray(smap_data, dtype=np.float64)
    n = data.shape[0]
    cdelt = float(header["CDELT1"])
    target = 0.6 if n == 4096 else round(cdelt / 0.6) * 0.6
    s = target / cdelt  # input pixels per output pixel
    th = np.deg2rad(float(header["CROTA2"]))
    c, si = np.cos(th), np.sin(th)
    # output (x, y) -> input (x, y), 0-based: in = p_in + s * PC^-1 (out - p_out), PC = [[c, -sin], [sin, c]]
    A = s * np.array([[c, si], [-si, c]])
    p_in = np.array([float(header["CRPIX1"]) - 1.0, float(header["CRPIX2"]) - 1.0])
    p_out = np.array([(n - 1) / 2.0, (n - 1) / 2.0])
    b = p_in - A @ p_out
    M = np.concatenate([A, b[:, None]], axis=1)
    missing = float(np.nanmin(data))
    return cv2.warpAffine(data, M, (n, n), flags=interp | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=missing)


def _register_fn(peer, path):
    from aiapy.calibrate import register

    smap = _read_map(path)
    method, order, threads = "scipy", 3, 1
    if peer.endswith("-skimage"):
        method = "scikit-image"
    elif peer.endswith("-opencv"):
        import cv2

        cv2.setNumThreads(1)  # one thread, as every peer not named otherwise
        method = "opencv"
    elif peer.endswith("-order1"):
        order = 1
    if peer.startswith("dask-image-register"):
        method, threads = _dask_rotation(peer.endswith("-prefilter")), 2
    return (lambda: register(smap, order=order, method=method).data), threads


def _opencv_only_fn(peer, path):
    import cv2

    cv2.setNumThreads(1)
    data, header = pd.read_fits(path)
    interp = cv2.INTER_LANCZOS4 if peer.endswith("lanczos4") else cv2.INTER_CUBIC
    return (lambda: _opencv_only(data, header, interp)), 1


def _deconvolve_fn(peer, path, psf_path):
    import aiapy
    import aiapy.psf
    import numpy as np
    from astropy.io import fits

    smap = _read_map(path)
    psf = np.asarray(fits.getdata(psf_path), dtype=np.float64)
    kw = {"use_gpu": False} if aiapy.__version__ == "0.10.2" else {}
    if peer.endswith("-jax") and getattr(aiapy.psf.np, "__name__", "") != "jax.numpy":
        sys.exit("jax flavour asked but aiapy.psf does not use jax here")
    return (lambda: np.asarray(aiapy.psf.deconvolve(smap, psf=psf, iterations=ITERATIONS, **kw).data)), 1


def _skimage_rl_fn(path, psf_path):
    import numpy as np
    from astropy.io import fits
    from skimage.restoration import richardson_lucy

    smap = _read_map(path)
    img = np.where(smap.data < 0, 0, smap.data).astype(np.float64)  # aiapy's clip_negative
    # aiapy's PSF peaks at [n/2, n/2]; skimage's 'same' convolution and its flipped kernel need an
    # odd-size kernel centred on its middle pixel (an even one drifts a pixel per iteration), so
    # drop the first row and column (far wing).
    psf = np.asarray(fits.getdata(psf_path), dtype=np.float64)[1:, 1:]
    return (lambda: richardson_lucy(img, psf, num_iter=ITERATIONS, clip=False)), 1


def peer_fn(peer: str, path: str, psf_path: str | None):
    """The call to time for one Python peer on one input (loaded into memory here), and its threads."""
    if peer.startswith(("aiapy-register", "dask-image-register")):
        return _register_fn(peer, path)
    if peer.startswith("opencv-only"):
        return _opencv_only_fn(peer, path)
    if peer.startswith("aiapy-deconvolve"):
        return _deconvolve_fn(peer, path, psf_path)
    if peer == "skimage-richardson-lucy":
        return _skimage_rl_fn(path, psf_path)
    sys.exit(f"unknown peer {peer}")


def time_call(fn, repetitions: int, single_run_s: float, always_warm: bool):
    """Median time of `repetitions` runs after a warm-up one (a first run over single_run_s is the
    measurement, cold, unless always_warm); returns (output, timing dict)."""
    import numpy as np

    times, out = [], None
    for i in range(1 if repetitions <= 0 else repetitions + 1):
        t0 = time.perf_counter()
        out = np.asarray(fn())
        times.append(time.perf_counter() - t0)
        if i == 0 and times[0] > single_run_s and not always_warm:
            break  # slow: the first (cold) run is the measurement
    timed = times[1:] if len(times) > 1 else times
    return out, {"time_s": statistics.median(timed), "times_s": times, "cold_only": len(times) == 1, "dtype": str(out.dtype)}


def worker(args) -> int:
    """Run one peer on each --input in turn, saving each output (.npy) and one JSON list of timings."""
    import numpy as np

    if len(args.input) != len(args.output):
        sys.exit("worker: one --output per --input")
    infos = []
    for path, dest in zip(args.input, args.output):
        fn, threads = peer_fn(args.peer, path, args.psf)
        out, info = time_call(fn, args.repetitions, args.single_run_s, args.peer.endswith("-jax"))
        np.save(dest, out)
        infos.append(dict(info, threads=threads))
    Path(args.timing).write_text(json.dumps(infos))
    return 0


# =============================================================================================
# driver (peers_driver.py: where each peer runs, its row and verdict)


def find_input(arg: str | None) -> Path:
    if arg:
        return Path(arg).resolve()
    for d in (os.environ.get("AIA_DATA_DIR"), REPO / "testdata" / "aia"):
        if d and (Path(d) / INPUT_NAME).exists():
            return (Path(d) / INPUT_NAME).resolve()
    sys.exit(f"{INPUT_NAME} not found in $AIA_DATA_DIR or testdata/aia")


def machine(versions_by_venv) -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu_model": cpu, "cpu_count": os.cpu_count(), "load_average_at_start": list(os.getloadavg()),
            "platform": platform.platform(), "python": platform.python_version(), "venvs": versions_by_venv}


def venv_versions(py: Path) -> dict:
    p = subprocess.run([str(py), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                       capture_output=True, text=True)
    try:
        return {d["name"]: d["version"] for d in json.loads(p.stdout)}
    except Exception:  # noqa: BLE001
        return {"error": p.stderr.strip()[-300:]}


def frame_inputs(peers, size: int, real: Path, stages):
    """The frame every peer reads (the derived 4096² frame, or the real 2048² file) and the PSF of
    the deconvolve stage (aiapy's 171 Å PSF, 4096²; binned 2×2 by sum for 2048²)."""
    import numpy as np
    from astropy.io import fits

    inp, work, aiaccel = real, peers.work, str(peers.aiaccel)
    if size == 4096:  # the derived frame of testdata/golden/DERIVED.md, as aiaccel bench uses
        inp = work / "derived-4096.fits"
        if not inp.exists():
            subprocess.run([aiaccel, "derive", str(real), "-o", str(inp)], check=True)
    psf4096, psf = work / "psf-171-4096.fits", work / f"psf-171-{size}.fits"
    if "deconvolve" in stages and not psf.exists():
        if not psf4096.exists():
            subprocess.run([aiaccel, "psf", "-c", "171", "--backend", "cpu", "-o", str(psf4096)], check=True)
        if size == 2048:
            p = np.asarray(fits.getdata(psf4096), dtype=np.float64)
            fits.writeto(psf, p.reshape(2048, 2, 2048, 2).sum(axis=(1, 3)), overwrite=True)
    return inp, psf


def frame_name(size: int) -> str:
    return ("derived 4096² frame (2×2 replication of the real 2048² 1600 Å file, testdata/golden/DERIVED.md)"
            if size == 4096 else "real 2048² 1600 Å frame (aiapy registers this 2×-binned frame to 1.2″/px)")


def frame_description(stage: str, size: int) -> str:
    frame = frame_name(size)
    if stage == "register":
        return (f"register: level 1 → 1.5 of the {frame} (to {'0.6' if size == 4096 else '1.2'}″/px, "
                f"output {size}²); order 3 unless named.")
    return (f"deconvolve: {ITERATIONS} Richardson-Lucy iterations on the {frame} (negative pixels clipped to 0, as "
            "aiapy) with aiapy's 171 Å PSF" + (" binned 2×2 to 2048²." if size == 2048 else "."))


def frame_stage(peers, stage: str, inp: Path, psf: Path, size: int) -> dict:
    """Every peer of `stage` on the frame, judged against aiaccel's reference output of it."""
    rows, work = [], peers.work
    if stage == "register":
        for label, impl, venv, peer, threads, note in pd.REGISTER_PEERS:
            rows.append(pd.attempt(stage, label, impl, "f64", threads,
                                   lambda: peers.python(venv, peer, [inp], [work / f"{peer}-{venv}.npy"])[0], note))
    else:
        for label, impl, venv, peer, reps, note in pd.DECONVOLVE_PEERS:
            rows.append(pd.attempt(stage, label, impl, "f64", 1,
                                   lambda: peers.python(venv, peer, [inp], [work / f"{peer}-{venv}.npy"], psf, reps)[0], note))
    # aiaccel's rows run last (the Python peers do not need the binary) and are listed first.
    extra = ["--psf", str(psf), "-n", str(ITERATIONS)] if stage == "deconvolve" else []
    reps = peers.repetitions if stage == "register" else 1
    outs = [work / f"{stage}-{'-'.join(opts[1::2])}.fits" for _, opts, *_ in pd.AIACCEL_CONFIGS]
    ai = [pd.attempt(stage, label, "aiaccel " + " ".join(opts[:2]), prec, th,
                     lambda: dict(peers.cli([stage, str(inp), "-o", str(out), *extra, *opts], reps), output=str(out)), note)
          for (label, opts, prec, th, note), out in zip(pd.AIACCEL_CONFIGS, outs)]
    rows = ai + rows
    ref, hdr = pd.read_reference(outs[0], stage)
    pd.judge(rows, ref, hdr, stage)
    bound, reason = pr.read_bound(pd.TOLERANCES, stage, "f64")
    return {"stage": stage, "bound": bound, "bound_reason": reason, "rows": rows, "description": frame_description(stage, size)}


def summary(size: int, repetitions: int, stages) -> str:
    synoptic = (", and register on each of the six real synoptic 1024² EUV files (its own section below)"
                if "synoptic" in stages else "")
    return (f"Every implementation of register and deconvolve on the same input, the {frame_name(size)} made from "
            f"{INPUT_NAME}{synoptic}, judged against aiaccel's reference backend (bitwise aiapy 0.10.2) by the "
            "bound validate uses for a backend against the reference (max|Δ|/max over every pixel, as validate; 'on disk' is "
            f"the same over the flux pixels only). Time: median of {repetitions} run(s) after a warm-up run (Python peers: "
            "the call alone; aiaccel: the whole CLI run, FITS I/O included); a Python register peer whose first run takes "
            "over 20 s and the Python deconvolve peers are timed by one cold run (JAX: after one warm-up run, so jit "
            "compilation is not timed). One thread unless named. Flux ratio: "
            f"Σ out / Σ ref over the disk (the reference output's WCS and RSUN_OBS), pixels within {pr.FILL_MARGIN_PX} px "
            "of the input's fill value (-32768: the bottom third of the 1600 Å frame) left out. target / FFT: the Highway target "
            "(register) and FFT library (deconvolve) that aiaccel's CLI reports having run. The machine was shared (load "
            "average below), so times are indicative; ratios within one run are what counts.")


def driver(args) -> int:
    aiaccel = Path(args.aiaccel).resolve()
    if not os.access(aiaccel, os.X_OK):
        sys.exit(f"peers: {aiaccel}: no aiaccel binary (build it: ninja -C build, or run tools/peers)")
    work = Path(args.work).resolve() / str(args.size)
    work.mkdir(parents=True, exist_ok=True)
    oracle_dirs = [REPO / ".oracle"] + ([Path(args.oracle_dir)] if args.oracle_dir else [])
    venvs = {"peers": Path(sys.executable), "0.12.1": pd.venv_python("venv-0.12.1", oracle_dirs),
             "jax": pd.venv_python("venv-0.12.1-jax", oracle_dirs)}
    peers = pd.Peers(aiaccel, work, venvs, args.repetitions, args.peer_timeout)
    load0 = os.getloadavg()
    stages = (args.stages or ("register,deconvolve,synoptic" if args.size == 4096 else "register,deconvolve")).split(",")
    inp, psf = frame_inputs(peers, args.size, find_input(args.input), stages)
    docs = []
    for stage in stages:
        if stage == "synoptic":
            docs.append(ps.synoptic_stage(peers, Path(args.synoptic_dir) if args.synoptic_dir else ps.default_dir()))
        else:
            docs.append(frame_stage(peers, stage, inp, psf, args.size))
    vers = {"venv-peers (driver, aiapy 0.10.2 peers)": venv_versions(venvs["peers"])}
    for name, key in (("venv-0.12.1", "0.12.1"), ("venv-0.12.1-jax", "jax")):
        vers[name] = venv_versions(venvs[key]) if venvs[key] else "not found"
    vers["aiaccel"] = subprocess.run([str(aiaccel), "--version"], capture_output=True, text=True).stdout.strip()
    mach = machine(vers)
    mach["load_average_at_start"], mach["load_average_at_end"] = list(load0), list(os.getloadavg())
    doc = {"title": "aiaccel peers: speed against faithfulness", "summary": summary(args.size, args.repetitions, stages),
           "command": "tools/peers" + (" --size 2048 --out reports/peers/2048" if args.size == 2048 else ""),
           "input": inp.name, "iterations": ITERATIONS, "stages": docs, "machine": mach}
    pr.write_report(doc, Path(args.out))
    log(f"wrote {args.out}/peers.json, README.md, index.html")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("peer")
    w.add_argument("--input", required=True, nargs="+")
    w.add_argument("--psf")
    w.add_argument("--output", required=True, nargs="+")
    w.add_argument("--timing", required=True)
    w.add_argument("--repetitions", type=int, default=3)
    w.add_argument("--single-run-s", type=float, default=20.0)
    ap.add_argument("--out", default=str(REPO / "reports" / "peers"))
    ap.add_argument("--work", default=str(REPO / "build" / "peers"))
    ap.add_argument("--aiaccel", default=str(REPO / "build" / "apps" / "aiaccel"))
    ap.add_argument("--input")
    ap.add_argument("--stages", help="comma-separated: register, deconvolve, synoptic (register on the six real "
                    "1024² EUV files); default all three for --size 4096, the first two for 2048")
    ap.add_argument("--synoptic-dir", help="the six synoptic files (default $AIA_DATA_DIR/synoptic, else ../shared/aia/synoptic)")
    ap.add_argument("--size", type=int, choices=(2048, 4096), default=4096,
                    help="4096: the derived frame (aiaccel derive) of the real 2048² file; 2048: the real file")
    ap.add_argument("--repetitions", type=int, default=1, help="timed runs after the warm-up (0: one cold run)")
    ap.add_argument("--peer-timeout", type=float, default=900.0, help="seconds one Python peer may take (all its runs)")
    ap.add_argument("--oracle-dir", default=os.environ.get("AIACCEL_ORACLE_DIR"),
                    help="another .oracle/ to take venv-0.12.1 and venv-0.12.1-jax from")
    args = ap.parse_args()
    if args.cmd == "worker":
        try:
            return worker(args)
        except SystemExit:
            raise
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            return 1
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
