#!/usr/bin/env python3
"""Time every peer implementation of register and deconvolve on the same input, judge each against
aiaccel's reference backend (a bitwise port of aiapy 0.10.2), and write reports/peers/ (JSON,
Markdown, HTML with a frontier chart per stage). Run through tools/peers, which makes the venv
(.oracle/venv-peers, tools/oracle/requirements-peers.txt) and builds aiaccel first:

    tools/peers                   # = .oracle/venv-peers/bin/python tools/oracle/peers.py --out reports/peers

Driver mode (default) runs every peer as a subprocess, in the venv that holds its package:
    venv-peers      aiapy 0.10.2 + sunpy 7.0.5 (scipy / scikit-image / opencv rotation), opencv-only,
                    dask-image, scikit-image richardson_lucy
    venv-0.12.1     aiapy 0.12.1 numpy (.oracle/ of this checkout, else of --oracle-dir)
    venv-0.12.1-jax aiapy 0.12.1 with jax on the CPU (tools/oracle/setup jax)
    aiaccel CLI     build/apps/aiaccel register/deconvolve --backend reference|cpu [--precision] [--threads]
Worker mode (`worker PEER ...`) runs one Python peer, timing only the call (input already in memory),
and saves the output as .npy with a JSON of its times. The aiaccel rows are timed as whole CLI runs
(process start + FITS read/write included), so they are upper bounds of the kernel time.

Input (every peer, both stages): --size 4096 (default) the derived 4096² frame that `aiaccel derive` makes
from the real 2048² 1600 Å file (aia_lev1_1600a_..._lowres.fits, testdata/aia or $AIA_DATA_DIR), as
`aiaccel bench` uses; --size 2048 the real file itself. Deconvolve: 25 Richardson-Lucy iterations with
aiapy's 171 Å PSF (aiaccel psf --backend cpu, 4096²; binned 2×2 to 2048² by sum for --size 2048).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
INPUT_NAME = "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits"
ITERATIONS = 25
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1"}


def log(msg: str) -> None:
    print(f"peers: {msg}", file=sys.stderr, flush=True)


# =============================================================================================
# worker: one Python peer


def _read_map(path):
    import sunpy.map

    return sunpy.map.Map(path)


def _dask_rotation():
    """Register dask_image.ndinterp.affine_transform as a sunpy rotation method ('dask-image'), so
    aiapy's register runs it with sunpy's own geometry: only the interpolation kernel differs."""
    import dask
    import dask.array as da
    from dask_image.ndinterp import affine_transform
    from sunpy.image.transform import _rotation_registry, add_rotation_function

    if "dask-image" in _rotation_registry:
        return

    @add_rotation_function("dask-image", allowed_orders=range(6), handles_clipping=False,
                           handles_image_nans=False, handles_nan_missing=True)
    def _rotation_dask(image, matrix, shift, order, missing, clip):
        img = da.from_array(image.T, chunks=(image.shape[1] // 2, image.shape[0] // 2))
        out = affine_transform(img, matrix, offset=shift, order=order, mode="constant", cval=missing)
        with dask.config.set(scheduler="threads", num_workers=2):
            return out.compute().T


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


def worker(args) -> int:
    import numpy as np

    peer = args.peer
    threads = 1
    if peer.startswith("opencv"):
        import cv2

        cv2.setNumThreads(1)
    fn = None
    if peer.startswith("aiapy-register") or peer == "dask-image-register":
        from aiapy.calibrate import register

        smap = _read_map(args.input)
        method, order = "scipy", 3
        if peer.endswith("-skimage"):
            method = "scikit-image"
        elif peer.endswith("-opencv"):
            method = "opencv"
        elif peer.endswith("-order1"):
            order = 1
        if peer == "dask-image-register":
            _dask_rotation()
            method, threads = "dask-image", 2

        def fn():
            return register(smap, order=order, method=method).data
    elif peer.startswith("opencv-only"):
        import cv2
        from astropy.io import fits

        with fits.open(args.input) as hl:
            hdu = hl[1] if len(hl) > 1 and hl[1].data is not None else hl[0]
            data, header = np.asarray(hdu.data, dtype=np.float64), dict(hdu.header)
        interp = cv2.INTER_LANCZOS4 if peer.endswith("lanczos4") else cv2.INTER_CUBIC

        def fn():
            return _opencv_only(data, header, interp)
    elif peer.startswith("aiapy-deconvolve"):
        import aiapy
        import aiapy.psf
        from astropy.io import fits

        smap = _read_map(args.input)
        psf = np.asarray(fits.getdata(args.psf), dtype=np.float64)
        kw = {"use_gpu": False} if aiapy.__version__ == "0.10.2" else {}
        if peer.endswith("-jax"):
            if getattr(aiapy.psf.np, "__name__", "") != "jax.numpy":
                sys.exit("jax flavour asked but aiapy.psf does not use jax here")

        def fn():
            return np.asarray(aiapy.psf.deconvolve(smap, psf=psf, iterations=ITERATIONS, **kw).data)
    elif peer == "skimage-richardson-lucy":
        from astropy.io import fits
        from skimage.restoration import richardson_lucy

        smap = _read_map(args.input)
        img = np.where(smap.data < 0, 0, smap.data).astype(np.float64)  # aiapy's clip_negative
        psf = np.asarray(fits.getdata(args.psf), dtype=np.float64)
        # aiapy's PSF peaks at [n/2, n/2]; skimage's 'same' convolution and its flipped kernel need an
        # odd-size kernel centred on its middle pixel (an even one drifts a pixel per iteration), so
        # drop the first row and column (far wing).
        psf = psf[1:, 1:]

        def fn():
            return richardson_lucy(img, psf, num_iter=ITERATIONS, clip=False)
    else:
        sys.exit(f"unknown peer {peer}")

    times = []
    out = None
    for i in range(1 if args.repetitions <= 0 else args.repetitions + 1):
        t0 = time.perf_counter()
        out = np.asarray(fn())
        times.append(time.perf_counter() - t0)
        if i == 0 and times[0] > args.single_run_s and not peer.endswith("-jax"):
            break  # slow: the first (cold) run is the measurement
    timed = times[1:] if len(times) > 1 else times
    np.save(args.output, out)
    info = {"time_s": statistics.median(timed), "times_s": times, "cold_only": len(times) == 1,
            "threads": threads, "dtype": str(out.dtype)}
    Path(args.timing).write_text(json.dumps(info))
    return 0


# =============================================================================================
# driver


def venv_python(name: str, oracle_dirs) -> Path | None:
    for d in oracle_dirs:
        p = Path(d) / name / "bin" / "python"
        if p.exists():
            return p
    return None


def find_input(arg: str | None) -> Path:
    if arg:
        return Path(arg).resolve()
    for d in (os.environ.get("AIA_DATA_DIR"), REPO / "testdata" / "aia"):
        if d and (Path(d) / INPUT_NAME).exists():
            return (Path(d) / INPUT_NAME).resolve()
    sys.exit(f"{INPUT_NAME} not found in $AIA_DATA_DIR or testdata/aia")


def run_cli(argv, repetitions):
    """Time a whole CLI run; the first run warms the page cache and the FFTW wisdom."""
    times = []
    for _ in range(repetitions + 1):
        t0 = time.perf_counter()
        p = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip()[-400:]}")
    return {"time_s": statistics.median(times[1:]), "times_s": times}


def read_fits(path):
    import numpy as np
    from astropy.io import fits

    with fits.open(path) as hl:
        for hdu in hl:
            if hdu.data is not None:
                return np.asarray(hdu.data, dtype=np.float64), dict(hdu.header)
    raise ValueError(f"{path}: no image")


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


def driver(args) -> int:
    import numpy as np
    from astropy.io import fits

    sys.path.insert(0, str(HERE))
    import peers_report as pr

    aiaccel = Path(args.aiaccel).resolve()
    if not os.access(aiaccel, os.X_OK):
        sys.exit(f"peers: {aiaccel}: no aiaccel binary (build it: ninja -C build, or run tools/peers)")
    work = Path(args.work).resolve() / str(args.size)
    work.mkdir(parents=True, exist_ok=True)
    inp = find_input(args.input)
    oracle_dirs = [REPO / ".oracle"] + ([Path(args.oracle_dir)] if args.oracle_dir else [])
    me = Path(sys.executable)
    py012 = venv_python("venv-0.12.1", oracle_dirs)
    pyjax = venv_python("venv-0.12.1-jax", oracle_dirs)
    load0 = os.getloadavg()

    psf4096, psf2048 = work / "psf-171-4096.fits", work / "psf-171-2048.fits"
    real = inp
    if args.size == 4096:  # the derived frame of testdata/golden/DERIVED.md, as aiaccel bench uses
        inp = work / "derived-4096.fits"
        if not inp.exists():
            subprocess.run([str(aiaccel), "derive", str(real), "-o", str(inp)], check=True)
    psf_used = psf4096 if args.size == 4096 else psf2048
    frame = ("derived 4096² frame (2×2 replication of the real 2048² 1600 Å file, testdata/golden/DERIVED.md)"
             if args.size == 4096 else "real 2048² 1600 Å frame (aiapy registers this 2×-binned frame to 1.2″/px)")
    stages = []
    for stage in args.stages.split(","):
        rows = []
        if stage == "deconvolve" and not psf_used.exists():
            # The shared PSF: aiapy's 171 Å PSF (aiaccel's bitwise port), 4096²; binned 2x2 (sum) for a 2048² input.
            if not psf4096.exists():
                subprocess.run([str(aiaccel), "psf", "-c", "171", "--backend", "cpu", "-o", str(psf4096)], check=True)
            if args.size == 2048:
                p = np.asarray(fits.getdata(psf4096), dtype=np.float64)
                fits.writeto(psf2048, p.reshape(2048, 2, 2048, 2).sum(axis=(1, 3)), overwrite=True)
        ref_out = work / f"{stage}-reference.fits"
        common = ["--psf", str(psf_used), "-n", str(ITERATIONS)] if stage == "deconvolve" else []
        cli = lambda extra, out: [str(aiaccel), stage, str(inp), "-o", str(out), *common, *extra]  # noqa: E731

        def add(label, impl, precision, threads, run, note=""):
            log(f"{stage}: {label} ...")
            row = {"label": label, "implementation": impl, "precision": precision, "threads": threads,
                   "note": note, "error": None}
            try:
                row.update(run())
                log(f"{stage}: {label}: {row['time_s']:.3g} s")
            except Exception as exc:  # noqa: BLE001 - a peer's failure is its row
                row["error"] = f"{type(exc).__name__}: {exc}"
                row["note"] = (note + "; " if note else "") + "could not run: " + row["error"]
                log(f"{stage}: {label}: {row['error']}")
            rows.append(row)

        cli_reps = args.repetitions if stage == "register" else 1

        def run_aiaccel(extra, out):
            def go():
                r = run_cli(cli(extra, out), cli_reps)
                r["output"] = str(out)
                return r
            return go

        def run_py(py, peer, reps=None):
            def go():
                if py is None:
                    raise RuntimeError("venv not found (tools/oracle/setup; jax: tools/oracle/setup jax)")
                tag = f"{peer}-{py.parent.parent.name}"  # one file per peer and venv
                out, tim = work / f"{tag}.npy", work / f"{tag}.json"
                env = dict(os.environ, **(ONE_THREAD if "dask" not in peer else {}))
                p = subprocess.run([str(py), str(HERE / "peers.py"), "worker", peer, "--input", str(inp),
                                    "--psf", str(psf_used), "--output", str(out), "--timing", str(tim),
                                    "--repetitions", str(args.repetitions if reps is None else reps)],
                                   capture_output=True, text=True, env=env, timeout=args.peer_timeout)
                if p.returncode != 0:
                    raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}")
                r = json.loads(tim.read_text())
                r["output"] = str(out)
                return r
            return go

        if stage == "register":
            add("aiapy 0.10.2 (sunpy scipy, order 3)", "aiapy.calibrate.register", "f64", 1, run_py(me, "aiapy-register"))
            add("aiapy 0.12.1 (sunpy scipy, order 3)", "aiapy.calibrate.register", "f64", 1, run_py(py012, "aiapy-register"))
            add("aiapy 0.10.2 + sunpy scikit-image", "register(method='scikit-image')", "f64", 1, run_py(me, "aiapy-register-skimage"))
            add("aiapy 0.10.2 + sunpy opencv", "register(method='opencv')", "f64", 1, run_py(me, "aiapy-register-opencv"))
            add("aiapy 0.10.2 order 1 (bilinear)", "register(order=1)", "f64", 1, run_py(me, "aiapy-register-order1"))
            add("dask-image affine_transform, 2 workers", "dask_image.ndinterp.affine_transform via register",
                "f64", 2, run_py(me, "dask-image-register"), "sunpy's geometry, dask-image kernel (chunks 1024²)")
            add("OpenCV-only INTER_CUBIC", "cv2.warpAffine", "f64", 1, run_py(me, "opencv-only-cubic"),
                "no sunpy; Sun centre at the array centre")
            add("OpenCV-only INTER_LANCZOS4", "cv2.warpAffine", "f64", 1, run_py(me, "opencv-only-lanczos4"),
                "no sunpy; Sun centre at the array centre")
        else:
            slow = 0
            add("aiapy 0.10.2 deconvolve (numpy)", "aiapy.psf.deconvolve", "f64", 1, run_py(me, "aiapy-deconvolve", slow))
            add("aiapy 0.12.1 deconvolve (numpy)", "aiapy.psf.deconvolve", "f64", 1, run_py(py012, "aiapy-deconvolve", slow))
            add("aiapy 0.12.1 deconvolve (JAX, CPU)", "aiapy.psf.deconvolve (jax.numpy, jit)", "f64", 1,
                run_py(pyjax, "aiapy-deconvolve-jax", 1), "one warm-up (jit) run not timed")
            add("skimage richardson_lucy", "skimage.restoration.richardson_lucy", "f64", 1,
                run_py(me, "skimage-richardson-lucy", slow), "its own RL: start 0.5, linear (zero-padded) convolution; PSF without its first row/column (odd size, centred)")

        # aiaccel's rows run last (the Python peers do not need the binary) and are listed first.
        n_py = len(rows)
        add("aiaccel reference f64", "aiaccel --backend reference", "f64", 1, run_aiaccel(["--backend", "reference"], ref_out),
            "the reference; whole CLI run")
        for prec in ("f64", "f32"):
            for th in (1, 2):
                if prec == "f32" and th == 1:
                    continue
                add(f"aiaccel cpu {prec} {th}t", "aiaccel --backend cpu", prec, th,
                    run_aiaccel(["--backend", "cpu", "--precision", prec, "--threads", str(th)],
                                work / f"{stage}-cpu-{prec}-{th}t.fits"), "whole CLI run")
        rows = rows[n_py:] + rows[:n_py]

        bound, reason = pr.read_bound(REPO / "validate" / "tolerances.cpp", stage, "f64")
        bound32, _ = pr.read_bound(REPO / "validate" / "tolerances.cpp", stage, "f32")
        ref = None
        try:
            ref, hdr = read_fits(ref_out)
            ref_sel = pr.disk_mask(ref.shape, hdr)
        except Exception as exc:  # noqa: BLE001
            log(f"{stage}: no reference output: {exc}")
        for row in rows:
            out = row.pop("output", None)
            if row["error"] or ref is None:
                row["verdict"] = "NOT RUN" if row["error"] else "MISTRUSTED (no reference)"
                continue
            arr = np.load(out) if out.endswith(".npy") else read_fits(out)[0]
            row["metrics"] = pr.metrics(arr, ref, ref_sel)
            b = bound32 if row["precision"] == "f32" else bound
            row["bound"] = b
            row["verdict"] = pr.verdict(row["metrics"], b)
        stages.append({"stage": stage, "bound": bound, "bound_reason": reason, "rows": rows,
                       "description": (f"register: level 1 → 1.5 of the {frame} (to {'0.6' if args.size == 4096 else '1.2'}″/px, "
                                       f"output {args.size}²); order 3 unless named." if stage == "register" else
                                       f"deconvolve: {ITERATIONS} Richardson-Lucy iterations on the {frame} (negative pixels "
                                       "clipped to 0, as aiapy) with aiapy's 171 Å PSF" + (" binned 2×2 to 2048²." if args.size == 2048 else "."))})

    vers = {"venv-peers (driver, aiapy 0.10.2 peers)": venv_versions(me)}
    for name, py in (("venv-0.12.1", py012), ("venv-0.12.1-jax", pyjax)):
        vers[name] = venv_versions(py) if py else "not found"
    try:
        vers["aiaccel"] = subprocess.run([str(aiaccel), "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    mach = machine(vers)
    mach["load_average_at_start"] = list(load0)
    mach["load_average_at_end"] = list(os.getloadavg())
    doc = {"title": "aiaccel peers: speed against faithfulness",
           "summary": (f"Every implementation of register and deconvolve on the same input, the {frame} made from "
                       f"{INPUT_NAME}, judged against aiaccel's reference backend (bitwise aiapy 0.10.2) by the "
                       "bound validate uses for a backend against the reference (max|Δ|/max over every pixel, as validate; 'on disk' is "
                       "the same over the flux pixels only). Time: median of "
                       f"{args.repetitions} run(s) after a warm-up run (Python peers: the call alone; aiaccel: the whole CLI run, "
                       "FITS I/O included); a Python register peer whose first run takes over 20 s and the Python deconvolve "
                       "peers are timed by one cold run (JAX: after one warm-up run, so jit compilation is not timed). "
                       "One thread unless named. Flux ratio: "
                       f"Σ out / Σ ref over the disk, pixels within {pr.FILL_MARGIN_PX} px of the input's fill value "
                       "(-32768: the bottom third of the frame) left out. The machine was shared (load average below), so times are indicative."),
           "command": "tools/peers" + (" --size 2048 --out reports/peers/2048" if args.size == 2048 else ""), "input": str(inp.name), "iterations": ITERATIONS, "stages": stages,
           "machine": mach}
    pr.write_report(doc, Path(args.out))
    log(f"wrote {args.out}/peers.json, README.md, index.html")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("peer")
    w.add_argument("--input", required=True)
    w.add_argument("--psf")
    w.add_argument("--output", required=True)
    w.add_argument("--timing", required=True)
    w.add_argument("--repetitions", type=int, default=3)
    w.add_argument("--single-run-s", type=float, default=20.0)
    ap.add_argument("--out", default=str(REPO / "reports" / "peers"))
    ap.add_argument("--work", default=str(REPO / "build" / "peers"))
    ap.add_argument("--aiaccel", default=str(REPO / "build" / "apps" / "aiaccel"))
    ap.add_argument("--input")
    ap.add_argument("--stages", default="register,deconvolve")
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
