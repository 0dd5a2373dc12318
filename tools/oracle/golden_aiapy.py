#!/usr/bin/env python3
"""Produce aiapy goldens for the aiaccel reference port (docs/validation.md §6 recipe).

Run it with the python of one oracle venv (tools/oracle/setup makes them), or pass --aiapy-venv:

    .oracle/venv-0.10.2/bin/python tools/oracle/golden_aiapy.py [--items psf:171,register,...]
    python3 tools/oracle/golden_aiapy.py --aiapy-venv .oracle/venv-0.12.1

Output goes to testdata/golden/aiapy-<imported aiapy version>/ : one JSON record per item under
items/, arrays as .fits.gz (see common.save_array), and index.json (rebuilt from the item records
after every run). Items whose record exists are skipped unless --force, so runs can be resumed.
The script re-executes itself with NPY_DISABLE_CPU_FEATURES (common.NPY_DISABLE_CPU_FEATURES_VALUE)
and single-threaded BLAS unless --native-simd; cupy/jax must not be importable (checked).
Every table is passed explicitly; nothing is fetched.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
import traceback
import warnings
from pathlib import Path

_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--native-simd", action="store_true")
_pre.add_argument("--aiapy-venv")
_pre_args, _ = _pre.parse_known_args()
if _pre_args.aiapy_venv:  # run under that venv's python (re-exec), e.g. .oracle/venv-0.12.1
    import os

    _venv_py = Path(_pre_args.aiapy_venv).absolute() / "bin" / "python"
    if not _venv_py.exists():
        sys.exit(f"no python in --aiapy-venv {_pre_args.aiapy_venv} (run tools/oracle/setup)")
    if Path(sys.prefix).resolve() != Path(_pre_args.aiapy_venv).resolve():
        os.execv(str(_venv_py), [str(_venv_py), str(Path(__file__).resolve())] + sys.argv[1:])

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.ensure_cpu_env(disable_features=not _pre_args.native_simd)

import numpy as np  # noqa: E402

# ---------------------------------------------------------------------------------------------

EUV_CHANNELS = [94, 131, 171, 193, 211, 304, 335]
DECONV_ITERATIONS = [1, 5, 25]
CROP_HALF = 256  # central crop rows/cols 2048-256 .. 2048+256 inclusive -> 513 x 513

REAL_FILES = {
    # key: (file name in $AIA_DATA_DIR, full disk?)
    "aia_171_level1": "aia_171_level1.fits",
    "aia_171_cutout": "aia_171_cutout.fits",
    "lowres_1600": "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits",
    "cutout_1600_lev1": "20120606_040731_UTC.0041.fits",
    "cutout_1600_lev15_ssw": "AIA20120606_040729_1600.fits",
}
# The JSOC synoptic level-1.5 1024² images (AIA_DATA_DIR/synoptic, MANIFEST.md): register and the
# offline calibration steps (correct_degradation, exposure) of every EUV channel but 304. Kept out of
# REAL_FILES, whose files make the update_pointing, degradation and full_disk items.
SYNOPTIC_CHANNELS = ["0094", "0131", "0171", "0193", "0211", "0335"]
SYNOPTIC_FILES = {f"synoptic_{c}": f"synoptic/AIA20140101_0000_{c}.fits" for c in SYNOPTIC_CHANNELS}
TABLES = {
    "V10": "tables/aia_V10_20201023_180000_response_table.txt",
    "V8": "tables/aia_V8_20171210_050627_response_table.txt",
}


def all_items() -> list[str]:
    items = [f"psf:{c}" for c in EUV_CHANNELS] + ["psf:171-preflight", "psf_native_simd:171"]
    items += ["derived"]
    items += [f"deconvolve:{n}" for n in DECONV_ITERATIONS]
    items += ["deconvolve:25-float32"]
    items += ["full_disk"]
    items += [f"register:{k}" for k in REAL_FILES] + ["register:derived"]
    items += [f"register:{k}" for k in SYNOPTIC_FILES]
    items += ["update_pointing"]
    items += ["degradation", "correct_degradation", "exposure"]
    items += ["correct_degradation:synoptic", "exposure:synoptic"]
    return items


# ---------------------------------------------------------------------------------------------
# helpers


class Ctx:
    def __init__(self, args):
        import aiapy

        self.args = args
        self.aiapy_version = aiapy.__version__
        self.v012 = not self.aiapy_version.startswith("0.10")
        self.out = common.GOLDEN_DIR / f"aiapy-{self.aiapy_version}"
        self.items_dir = self.out / "items"
        self.cache = common.REPO_ROOT / ".oracle" / "cache"
        self.data = common.data_dir()
        self.versions = common.versions()
        self.generated_by = common.generated_by(__file__)

    def path(self, name: str) -> Path:
        return self.out / name

    def record_path(self, item: str) -> Path:
        return self.items_dir / (item.replace(":", "__") + ".json")

    def save(self, name: str, arr, window=None) -> dict:
        """common.save_array into this version's folder, unless the other aiapy version's folder
        already holds a byte-identical file of the same name (deterministic gzip), in which case
        the record points at that file instead of storing a duplicate."""
        dest = self.path(name)
        desc = common.save_array(dest, arr)
        for other in sorted(common.GOLDEN_DIR.glob("aiapy-*")):
            o = other / name
            if other != self.out and o.is_file() and o.read_bytes() == dest.read_bytes():
                dest.unlink()
                desc["file"] = common.rel(o)
                desc["shared_with"] = other.name
                break
        if window is not None:
            desc["window"] = window
        return desc


def crop_center(a, half=CROP_HALF, center=None):
    cy, cx = center if center is not None else (a.shape[0] // 2, a.shape[1] // 2)
    return a[cy - half: cy + half + 1, cx - half: cx + half + 1]


def center_window(shape, half):
    cy, cx = shape[0] // 2, shape[1] // 2
    return {"row0": cy - half, "row1": cy + half, "col0": cx - half, "col1": cx + half}


WINDOW_NOTE = "window: inclusive 0-based [row0..row1] x [col0..col1] of the full output array"


def block_reduce(a, block, how="sum"):
    n0, n1 = a.shape
    r = np.asarray(a, dtype=np.float64).reshape(n0 // block, block, n1 // block, block)
    return r.sum(axis=(1, 3)) if how == "sum" else r.mean(axis=(1, 3))


def sample_pixels(a, positions):
    out = []
    for (r, c) in positions:
        v = float(a[r, c])
        out.append({"row": int(r), "col": int(c), "repr": repr(v), "hex": v.hex()})
    return out


def meta_dict(m) -> dict:
    """All header cards of a sunpy map's meta as a JSON-able dict (keys as sunpy stores them)."""
    out = {}
    for k, v in m.meta.items():
        if isinstance(v, (bool, np.bool_)):
            out[k] = bool(v)
        elif isinstance(v, (int, np.integer)):
            out[k] = int(v)
        elif isinstance(v, (float, np.floating)):
            out[k] = {"repr": repr(float(v)), "hex": float(v).hex()}
        else:
            out[k] = str(v)
    return out


def load_map(ctx, key):
    import sunpy.map

    return sunpy.map.Map(str(ctx.data / (REAL_FILES | SYNOPTIC_FILES)[key]))


TIMINGS: list = []  # every timed() call of the current item (reset per item)


def timed(fn, *a, **kw):
    """Call fn, return (result, wall seconds, warnings). Also logs wall, process CPU time and the
    1-min load average before/after into TIMINGS: the machine is shared (2 cores), so wall time
    alone can be inflated by other processes; cpu_s is the more robust number."""
    import os

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        load0 = os.getloadavg()[0]
        c0 = time.process_time()
        t0 = time.perf_counter()
        res = fn(*a, **kw)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        load1 = os.getloadavg()[0]
    TIMINGS.append({"call": getattr(fn, "__name__", str(fn)), "wall_s": dt, "cpu_s": dc,
                    "loadavg1_before": load0, "loadavg1_after": load1})
    return res, dt, [f"{x.category.__name__}: {x.message}" for x in w]


def refusal(exc) -> dict:
    return {"exception_type": type(exc).__name__, "message": str(exc)}


# ---------------------------------------------------------------------------------------------
# PSF


def psf_call(ctx, channel, preflight):
    import astropy.units as u
    import aiapy.psf

    if ctx.v012:
        fn = aiapy.psf.calculate_psf
        kwargs = {"use_preflightcore": preflight}
        call = f"aiapy.psf.calculate_psf({channel}*u.angstrom, use_preflightcore={preflight})"
    else:
        fn = aiapy.psf.psf
        kwargs = {"use_preflightcore": preflight, "use_gpu": False}
        call = f"aiapy.psf.psf({channel}*u.angstrom, use_preflightcore={preflight}, use_gpu=False)"
    psf, dt, warns = timed(fn, channel * u.angstrom, **kwargs)
    return psf, dt, warns, call


def psf_crop_half(channel, preflight):
    return CROP_HALF if (channel == 171 and not preflight) else 64


def psf_cache_path(ctx, channel=171):
    return ctx.cache / f"psf-{ctx.aiapy_version}-{channel}.npy"


def get_psf171(ctx):
    p = psf_cache_path(ctx, 171)
    if p.exists():
        return np.load(p)
    psf, _, _, _ = psf_call(ctx, 171, False)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.save(p, psf)
    return psf


def item_psf(ctx, item):
    spec = item.split(":", 1)[1]
    preflight = spec.endswith("-preflight")
    channel = int(spec.split("-")[0])
    psf, dt, warns, call = psf_call(ctx, channel, preflight)
    if channel == 171 and not preflight:
        p = psf_cache_path(ctx, 171)
        p.parent.mkdir(parents=True, exist_ok=True)
        np.save(p, psf)
    tag = f"psf-{channel}" + ("-preflight" if preflight else "")
    total = psf.sum()  # numpy pairwise sum over the full array, as aiapy's own sums
    st = common.stats(psf)
    st["sum_full_np"] = common.fnum(total)
    st["sum_minus_1"] = common.fnum(total - 1.0)
    st["center_value"] = common.fnum(psf[2048, 2048])
    half = psf_crop_half(channel, preflight)
    n = 2 * half + 1
    files = {
        f"crop_center_{n}": ctx.save(f"{tag}-crop{n}.fits.gz", crop_center(psf, half),
                                     center_window(psf.shape, half)),
        "blocksum_16": ctx.save(f"{tag}-blocksum16.fits.gz", block_reduce(psf, 16, "sum")),
    }
    return {
        "kind": "psf",
        "call": call,
        "args": {"channel_angstrom": channel, "use_preflightcore": preflight,
                 "diffraction_orders": None,
                 **({} if ctx.v012 else {"use_gpu": False})},
        "wall_time_s": dt,
        "warnings": warns,
        "output": {"shape": list(psf.shape), "dtype": str(psf.dtype),
                   "sha256_full_le": common.sha256_array_le(psf)},
        "stats": st,
        "files": files,
        "notes": (f"crop_center_{n} = psf[{2048 - half}:{2049 + half}, {2048 - half}:{2049 + half}]"
                  "; blocksum_16 = psf.reshape(256,16,256,16).sum(axis=(1,3)) in float64. "
                  + WINDOW_NOTE + ". Crop sizes are limited to keep testdata/golden ~30 MB: "
                  "513x513 for the 171 A default PSF (the one used for deconvolution), 129x129 "
                  "for the others."),
    }


def item_psf_native_simd(ctx, item):
    """docs/validation.md §6: the same PSF computed WITHOUT NPY_DISABLE_CPU_FEATURES (numpy's own
    AVX-512 exp), compared with the pinned golden. Runs this script in a child process because
    numpy reads the variable at import. Only numbers are stored, no arrays."""
    import json
    import os
    import subprocess

    channel = int(item.split(":", 1)[1])
    ctx.cache.mkdir(parents=True, exist_ok=True)
    out_npy = ctx.cache / f"psf-{ctx.aiapy_version}-{channel}-native-simd.npy"
    env = {k: v for k, v in os.environ.items()
           if k not in ("NPY_DISABLE_CPU_FEATURES", "AIAACCEL_ORACLE_REEXEC")}
    env.update(common.THREAD_ENV)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--native-simd",
                           "--psf-to-npy", str(channel), str(out_npy)],
                          env=env, capture_output=True, text=True, check=True)
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    native = np.load(out_npy)
    pinned = get_psf171(ctx) if channel == 171 else None
    if pinned is None:
        raise ValueError("only 171 is cached for comparison")
    d = np.abs(native - pinned)
    return {
        "kind": "psf_native_simd",
        "call": child["call"],
        "purpose": ("same PSF without NPY_DISABLE_CPU_FEATURES (native SIMD exp), to size the "
                    "effect of docs/algorithms.md §7.1 on this machine; goldens use the pinned run"),
        "wall_time_s": child["wall_time_s"],
        "child_timing": child.get("timing"),
        "child_numpy_cpu": child["numpy_cpu"],
        "child_env_NPY_DISABLE_CPU_FEATURES": child["NPY_DISABLE_CPU_FEATURES"],
        "native": {"sha256_full_le": common.sha256_array_le(native),
                   "sum": common.fnum(native.sum()), "max": common.fnum(native.max())},
        "pinned": {"sha256_full_le": common.sha256_array_le(pinned),
                   "sum": common.fnum(pinned.sum()), "max": common.fnum(pinned.max())},
        "diff": {"n_pixels_differ": int((native != pinned).sum()),
                 "max_abs_over_max": common.fnum(d.max() / pinned.max()),
                 "max_abs_diff_center_513": common.fnum(crop_center(d).max()),
                 "sum_native_minus_sum_pinned": common.fnum(native.sum() - pinned.sum())},
    }


def psf_to_npy(channel, dest):
    import json

    psf, dt, _, call = psf_call(_ChildCtx(), channel, False)
    np.save(dest, psf)
    print(json.dumps({"call": call, "wall_time_s": dt, "timing": TIMINGS[-1],
                      "numpy_cpu": common.numpy_cpu_info(),
                      "NPY_DISABLE_CPU_FEATURES": __import__("os").environ.get(
                          "NPY_DISABLE_CPU_FEATURES")}))


class _ChildCtx:
    def __init__(self):
        import aiapy

        self.v012 = not aiapy.__version__.startswith("0.10")


# ---------------------------------------------------------------------------------------------
# derived full-resolution input (testdata/golden/DERIVED.md documents the rule)

DERIVED_SOURCE = "lowres_1600"
DERIVED_LABEL = "derived-1600x2"
DERIVED_DECONV_LABEL = "derived-1600x2-with-171psf"
# 257 x 257 window where the -32768 band edge (derived row 1295/1296) crosses the east limb.
LIMB_BAND_WINDOW = {"row0": 1168, "row1": 1424, "col0": 571, "col1": 827}
# 257 x 257 window on the west limb at disk-centre height (no band): rows, cols inclusive.
LIMB_WEST_WINDOW = {"row0": 1917, "row1": 2173, "col0": 3482, "col1": 3738}


def derive_full_res(smap):
    """2x2 pixel replication of the 2048^2 1600 A low-res map -> 4096^2 float64 AIAMap."""
    import sunpy.map

    d = np.asarray(smap.data)
    if d.shape != (2048, 2048) or d.dtype != np.float64:
        raise ValueError(f"unexpected source {d.shape} {d.dtype}")
    out = np.repeat(np.repeat(d, 2, axis=0), 2, axis=1)  # out[2i+a, 2j+b] = d[i, j]
    meta = copy.deepcopy(smap.meta)
    meta["naxis1"] = 4096
    meta["naxis2"] = 4096
    for ax in (1, 2):
        meta[f"cdelt{ax}"] = meta[f"cdelt{ax}"] / 2.0
        meta[f"crpix{ax}"] = 2.0 * (meta[f"crpix{ax}"] - 0.5) + 0.5
    # R_SUN, X0_MP, Y0_MP, IMSCL_MP are already in full-resolution (4096^2) units in this file
    # (X0_MP + 1 == derived CRPIX1, IMSCL_MP == derived CDELT1): left unchanged, see DERIVED.md.
    meta["derived"] = "2x2 replication of 2048^2 lowres 1600A file; NOT a real observation"
    hist = meta.get("history", "")
    meta["history"] = (hist + "\n" if hist else "") + (
        "DERIVED by aiaccel tools/oracle/golden_aiapy.py: 2x2 pixel replication of "
        "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits to 4096x4096; "
        "CDELT/2, CRPIX'=2*(CRPIX-0.5)+0.5. NOT a real observation.")
    return sunpy.map.Map(out, meta)


def get_derived(ctx):
    if not hasattr(ctx, "_derived"):
        ctx._derived = derive_full_res(load_map(ctx, DERIVED_SOURCE))
    return ctx._derived


def item_derived(ctx, item):
    src = load_map(ctx, DERIVED_SOURCE)
    m = get_derived(ctx)
    d = np.asarray(m.data)
    chk = bool(np.array_equal(d[0::2, 0::2], src.data) and np.array_equal(d[1::2, 1::2], src.data)
               and np.array_equal(d[0::2, 1::2], src.data) and np.array_equal(d[1::2, 0::2], src.data))
    keys = ["naxis1", "naxis2", "cdelt1", "cdelt2", "crpix1", "crpix2", "crval1", "crval2",
            "crota2", "r_sun", "rsun_obs", "x0_mp", "y0_mp", "imscl_mp", "inst_rot", "sat_rot",
            "t_obs", "date-obs", "wavelnth", "exptime", "lvl_num"]
    return {
        "kind": "derived",
        "label": DERIVED_LABEL,
        "source_file": f"$AIA_DATA_DIR/{REAL_FILES[DERIVED_SOURCE]}",
        "source_read_with": "sunpy.map.Map(file) (float64, -32768 fill kept)",
        "rule": "see testdata/golden/DERIVED.md",
        "replication_checked": chk,
        "data": {"shape": list(d.shape), "dtype": str(d.dtype),
                 "sha256_le": common.sha256_array_le(d)},
        "source_data_sha256_le": common.sha256_array_le(src.data),
        "stats": common.stats(d),
        "header_source": {k: meta_dict(src).get(k) for k in keys},
        "header_derived": {k: meta_dict(m).get(k) for k in keys + ["derived"]},
        "meta": meta_dict(m),
        "map_class": type(m).__name__,
        "wall_time_s": 0.0,
    }


# ---------------------------------------------------------------------------------------------
# deconvolution


def window(a, w):
    return a[w["row0"]: w["row1"] + 1, w["col0"]: w["col1"] + 1]


def item_deconvolve(ctx, item):
    import aiapy.psf

    spec = item.split(":", 1)[1]
    f32 = spec.endswith("-float32")
    n = int(spec.split("-")[0])
    m = get_derived(ctx)
    psf171 = get_psf171(ctx)
    kwargs = {"psf": psf171, "iterations": n}
    if not ctx.v012:
        kwargs["use_gpu"] = False
    call = (f"aiapy.psf.deconvolve(derived_map, psf=psf171, iterations={n}"
            + ("" if ctx.v012 else ", use_gpu=False") + ")")
    if f32:
        import sunpy.map

        m32 = sunpy.map.Map(np.asarray(m.data).astype(np.float32), copy.deepcopy(m.meta))
        out32, dt, warns = timed(aiapy.psf.deconvolve, m32, **kwargs)
        out64, dt64, _ = timed(aiapy.psf.deconvolve, m, **kwargs)
        a, b = np.asarray(out32.data), np.asarray(out64.data)
        diff = a.astype(np.float64) - b
        return {
            "kind": "deconvolve", "case": DERIVED_DECONV_LABEL,
            "call": call.replace("derived_map", "derived_map_cast_to_float32"),
            "args": {"iterations": n, "psf": f"psf:171 of aiapy {ctx.aiapy_version}",
                     "input_dtype": "float32 (derived data cast)"},
            "wall_time_s": dt, "wall_time_float64_s": dt64, "warnings": warns,
            "output_dtype": str(a.dtype),
            "purpose": ("docs/algorithms.md §7.6: documents the float32-input difference of numpy>=2 "
                        "(first rfft2 in complex64); not a golden to reproduce"),
            "diff_vs_float64_input": {
                "max_abs_over_max": common.fnum(np.abs(diff).max() / np.abs(b).max()),
                "rel_l2": common.fnum(np.linalg.norm(diff) / np.linalg.norm(b)),
            },
        }
    out, dt, warns = timed(aiapy.psf.deconvolve, m, **kwargs)
    a = np.asarray(out.data)
    tag = f"deconvolve-{DERIVED_DECONV_LABEL}-it{n}"
    half = CROP_HALF if n == 25 else 128  # 513 for 25 iterations, 257 otherwise (size budget)
    files = {
        f"crop_center_{2 * half + 1}": ctx.save(f"{tag}-crop{2 * half + 1}.fits.gz",
                                                crop_center(a, half), center_window(a.shape, half)),
        "crop_limb_band_257": ctx.save(f"{tag}-limbband257.fits.gz", window(a, LIMB_BAND_WINDOW),
                                       LIMB_BAND_WINDOW),
        "blocksum_16": ctx.save(f"{tag}-blocksum16.fits.gz", block_reduce(a, 16, "sum")),
    }
    if n == 25:
        files["crop_limb_west_257"] = ctx.save(f"{tag}-limbwest257.fits.gz",
                                               window(a, LIMB_WEST_WINDOW), LIMB_WEST_WINDOW)
    return {
        "kind": "deconvolve",
        "case": DERIVED_DECONV_LABEL,
        "call": call,
        "args": {"iterations": n, "clip_negative": True,
                 "psf": f"psf:171 of aiapy {ctx.aiapy_version} (default options), passed explicitly",
                 "input": f"{DERIVED_LABEL} (float64, see DERIVED.md)",
                 **({} if ctx.v012 else {"use_gpu": False})},
        "psf_note": ("1600 A has no PSF parameters in aiapy (validate_channel raises), so the "
                     "171 A PSF is used for this synthetic case"),
        "clip_negative_source": ("aiapy deconvolve: if clip_negative (default True): "
                                 "img = np.where(img < 0, 0, img) before RL; the -32768 band "
                                 "becomes 0 and stays exactly 0"),
        "wall_time_s": dt,
        "warnings": warns,
        "output": {"shape": list(a.shape), "dtype": str(a.dtype),
                   "sha256_full_le": common.sha256_array_le(a),
                   "meta_unchanged": out.meta == m.meta},
        "stats": common.stats(a),
        "windows_note": WINDOW_NOTE + "; blocksum_16 = out.reshape(256,16,256,16).sum(axis=(1,3))",
        "files": files,
    }


# ---------------------------------------------------------------------------------------------
# contains_full_disk / register


def all_maps(ctx):
    out = [(k, load_map(ctx, k)) for k in REAL_FILES]
    out.append(("derived", get_derived(ctx)))
    return out


def item_maps(ctx, item):
    """The maps of a calibration item: "<kind>" = all_maps, "<kind>:synoptic" = the synoptic files."""
    if item.endswith(":synoptic"):
        return [(k, load_map(ctx, k)) for k in SYNOPTIC_FILES]
    return all_maps(ctx)


def item_full_disk(ctx, item):
    from sunpy.map.maputils import contains_full_disk

    res = {}
    total = 0.0
    for key, m in all_maps(ctx):
        try:
            v, dt, warns = timed(contains_full_disk, m)
            res[key] = {"contains_full_disk": bool(v), "wall_time_s": dt, "warnings": warns,
                        "shape": list(m.data.shape)}
            total += dt
        except Exception as exc:  # noqa: BLE001
            res[key] = {"error": refusal(exc)}
    return {"kind": "full_disk", "call": "sunpy.map.maputils.contains_full_disk(map)",
            "results": res, "wall_time_s": total}


REGISTER_FULL_MAX_GZ = 8 * 1024 * 1024


def item_register(ctx, item):
    from aiapy.calibrate import register
    from sunpy.map.maputils import contains_full_disk

    key = item.split(":", 1)[1]
    m = get_derived(ctx) if key == "derived" else load_map(ctx, key)
    rec = {"kind": "register", "input": key, "call": "aiapy.calibrate.register(map)",
           "args": {"missing": None, "order": 3, "method": "scipy"},
           "input_shape": list(m.data.shape), "input_dtype": str(m.data.dtype),
           "input_contains_full_disk": bool(contains_full_disk(m)),
           "input_processing_level": m.processing_level,
           "input_missing_default_nanmin": common.fnum(np.nanmin(m.data))}
    try:
        out, dt, warns = timed(register, m)
    except Exception as exc:  # noqa: BLE001
        rec["refused"] = refusal(exc)
        rec["wall_time_s"] = None
        return rec
    a = np.asarray(out.data)
    rec.update({"wall_time_s": dt, "warnings": warns,
                "output": {"shape": list(a.shape), "dtype": str(a.dtype),
                           "sha256_full_le": common.sha256_array_le(a),
                           "map_class": type(out).__name__},
                "stats": common.stats(a), "meta": meta_dict(out)})
    tag = f"register-{key}"
    if key in SYNOPTIC_FILES:
        rec["files"] = synoptic_register_files(ctx, tag, a, out.meta)
        rec["windows_note"] = WINDOW_NOTE + "; " + SYNOPTIC_NOTE
        return rec
    files = {}
    full_ok = a.size <= 2048 * 2048
    if full_ok:
        files["full"] = ctx.save(f"{tag}-full.fits.gz", a)
        if files["full"]["bytes"] > REGISTER_FULL_MAX_GZ:
            (common.REPO_ROOT / files["full"]["file"]).unlink()
            rec["full_not_saved"] = f"gzip size {files.pop('full')['bytes']} > {REGISTER_FULL_MAX_GZ}"
            full_ok = False
    if not full_ok:
        h, w = a.shape
        cy, cx = h // 2, w // 2
        files["crop_center_257"] = ctx.save(f"{tag}-crop257.fits.gz", crop_center(a, 128),
                                            center_window(a.shape, 128))
        # band/limb window scaled to the output size
        lb = {"row0": int(LIMB_BAND_WINDOW["row0"] * h / 4096),
              "col0": int(LIMB_BAND_WINDOW["col0"] * w / 4096)}
        lb["row1"], lb["col1"] = lb["row0"] + 256, lb["col0"] + 256
        files["crop_limb_band_257"] = ctx.save(f"{tag}-limbband257.fits.gz", window(a, lb), lb)
        hb, wb = (h // 64) * 64, (w // 64) * 64
        files["blockmean_64"] = ctx.save(f"{tag}-blockmean64.fits.gz",
                                         block_reduce(a[:hb, :wb], 64, "mean"))
        rec["windows_note"] = WINDOW_NOTE
        rec["blockmean_64"] = (f"out[:{hb}, :{wb}].reshape({hb // 64},64,{wb // 64},64)"
                               ".mean(axis=(1,3)) in float64")
    rec["files"] = files
    return rec


SYNOPTIC_HALF = 32  # 65 x 65 windows: six channels x two versions stay well under 1 MB
SYNOPTIC_NOTE = ("crop_center_65 = out[480:545, 480:545]; crop_limb_west_65 = the 65 x 65 window "
                 "centred on the west limb at disk-centre height (column round(CRPIX1 - 1 + "
                 "RSUN_OBS/CDELT1) of the output, row floor(CRPIX2 - 1)); blocksum_16 = "
                 "out.reshape(64,16,64,16).sum(axis=(1,3)) in float64. The whole output is "
                 "checked through output.sha256_full_le and stats.")


def synoptic_register_files(ctx, tag, a, meta):
    """Small windows of a registered 1024^2 synoptic map: centre, west limb, 16x16 block sums
    (the full float64 output would be ~3 MB gzip per channel and version)."""
    h = SYNOPTIC_HALF
    cy = int(np.floor(meta["crpix2"] - 1))
    cx = int(round(meta["crpix1"] - 1 + meta["rsun_obs"] / meta["cdelt1"]))
    limb = {"row0": cy - h, "row1": cy + h, "col0": cx - h, "col1": cx + h}
    return {
        "crop_center_65": ctx.save(f"{tag}-crop65.fits.gz", crop_center(a, h),
                                   center_window(a.shape, h)),
        "crop_limb_west_65": ctx.save(f"{tag}-limbwest65.fits.gz", window(a, limb), limb),
        "blocksum_16": ctx.save(f"{tag}-blocksum16.fits.gz", block_reduce(a, 16, "sum")),
    }


# ---------------------------------------------------------------------------------------------
# update_pointing with a synthetic master pointing table built from the real files' keywords

POINTING_CHANNELS = ["094", "131", "171", "193", "211", "304", "335", "1600", "1700", "4500"]
# (window start, source map key for EUV columns, source map key for UV/visible columns, altered?)
POINTING_ROWS = [
    ("2011-02-14T21:00:00Z", "aia_171_level1", "cutout_1600_lev1", False),
    ("2011-02-15T00:00:00Z", "aia_171_level1", "cutout_1600_lev1", True),
    ("2011-02-15T03:00:00Z", "aia_171_level1", "cutout_1600_lev1", False),
    ("2012-06-06T00:00:00Z", "aia_171_level1", "cutout_1600_lev1", False),
    ("2012-06-06T03:00:00Z", "aia_171_level1", "lowres_1600", True),
    ("2012-06-06T06:00:00Z", "aia_171_level1", "cutout_1600_lev1", False),
    ("2013-03-10T09:00:00Z", "aia_171_cutout", "lowres_1600", False),
    ("2013-03-10T12:00:00Z", "aia_171_cutout", "lowres_1600", True),
    ("2013-03-10T15:00:00Z", "aia_171_cutout", "lowres_1600", False),
]
POINTING_ALTER = {"X0": 0.25, "Y0": -0.375, "IMSCALE": 0.0002, "INSTROT": 0.01}


def build_pointing_tables(ctx):
    """Write testdata/golden/pointing_table.csv and pointing_table_nan.csv (deterministic)."""
    from astropy.time import Time, TimeDelta
    import astropy.units as u

    maps = {k: load_map(ctx, k) for k in {r[1] for r in POINTING_ROWS} | {r[2] for r in POINTING_ROWS}}
    cols = ["T_START", "T_STOP"] + [f"A_{c}_{q}" for c in POINTING_CHANNELS
                                    for q in ("X0", "Y0", "IMSCALE", "INSTROT")]
    rows = []
    for start, euv, uv, altered in POINTING_ROWS:
        t0 = Time(start.rstrip("Z"), scale="utc")
        stop = (t0 + TimeDelta(3 * u.hour)).isot.split(".")[0] + "Z"
        row = {"T_START": start, "T_STOP": stop}
        for c in POINTING_CHANNELS:
            src = maps[uv if c in ("1600", "1700", "4500") else euv].meta
            vals = {"X0": src["x0_mp"], "Y0": src["y0_mp"], "IMSCALE": src["imscl_mp"],
                    "INSTROT": src["inst_rot"]}
            for q, v in vals.items():
                v = float(v) + (POINTING_ALTER[q] if altered else 0.0)
                row[f"A_{c}_{q}"] = repr(v)
        rows.append(row)
    main = common.GOLDEN_DIR / "pointing_table.csv"
    nan = common.GOLDEN_DIR / "pointing_table_nan.csv"
    for path, blank in ((main, set()),
                        (nan, {"A_171_IMSCALE", "A_171_INSTROT", "A_1600_X0", "A_1600_IMSCALE"})):
        lines = [",".join(cols)]
        for r in rows:
            lines.append(",".join("" if (c in blank and r["T_START"] in
                                         ("2011-02-15T00:00:00Z", "2012-06-06T03:00:00Z",
                                          "2013-03-10T12:00:00Z")) else r[c] for c in cols))
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return main, nan


def read_pointing_table(path):
    """aiapy's own get_pointing_table('lmsal') parser, pointed at a local file through the
    data manager's override_file (the sunpy DataManager mechanism; nothing is fetched)."""
    from aiapy.data._manager import manager

    try:
        from aiapy.calibrate.utils import get_pointing_table
    except ImportError:
        from aiapy.calibrate.util import get_pointing_table
    with manager.override_file("pointing_table", uri=str(path), sha_hash=common.sha256_file(path)):
        return get_pointing_table("lmsal")


POINTING_KEYS = ["crpix1", "crpix2", "cdelt1", "cdelt2", "crota2", "x0_mp", "y0_mp", "imscl_mp",
                 "inst_rot", "sat_rot", "pc1_1", "pc1_2", "pc2_1", "pc2_2", "t_obs", "naxis1",
                 "naxis2"]


def item_update_pointing(ctx, item):
    from aiapy.calibrate import update_pointing

    main, nan = build_pointing_tables(ctx)
    tables = {"main": (main, read_pointing_table(main)), "nan": (nan, read_pointing_table(nan))}
    results = {}
    total = 0.0
    for tname, (tpath, table) in tables.items():
        for key, m in all_maps(ctx):
            r = {"table": common.rel(tpath), "input": key,
                 "header_before": {k: meta_dict(m).get(k) for k in POINTING_KEYS if k in m.meta}}
            try:
                out, dt, warns = timed(update_pointing, m, pointing_table=table)
            except Exception as exc:  # noqa: BLE001
                r["refused"] = refusal(exc)
                results[f"{tname}:{key}"] = r
                continue
            total += dt
            before, after = meta_dict(m), meta_dict(out)
            r.update({
                "wall_time_s": dt, "warnings": warns,
                "header_after": {k: after.get(k) for k in POINTING_KEYS if k in out.meta},
                "changed_keys": sorted(k for k in after if before.get(k) != after[k]),
                "removed_keys": sorted(k for k in before if k not in after),
                "data_unchanged": bool(np.array_equal(out.data, m.data, equal_nan=True)),
                "reference_pixel_0based": [common.fnum(out.reference_pixel.x.value),
                                           common.fnum(out.reference_pixel.y.value)],
            })
            results[f"{tname}:{key}"] = r
    return {"kind": "update_pointing",
            "call": "aiapy.calibrate.update_pointing(map, pointing_table=table)",
            "table_reading": ("table = aiapy get_pointing_table('lmsal') with the data manager's "
                              "override_file('pointing_table', uri=<csv>) so aiapy's own parser "
                              "reads the local CSV (T_START/T_STOP -> Time utc, units set, "
                              "empty cells -> NaN)"),
            "tables": {k: {"file": common.rel(p), "sha256": common.sha256_file(p)}
                       for k, (p, _) in tables.items()},
            "results": results, "wall_time_s": total}


# ---------------------------------------------------------------------------------------------
# degradation, correct_degradation, exposure normalisation

DEGRADATION_EXTRA_TIMES = ["2010-05-01T00:00:00", "2014-01-01T00:00:00", "2015-06-30T23:59:59",
                           "2016-12-31T23:59:59", "2017-01-01T00:00:00.5", "2018-06-01T12:00:00",
                           "2020-10-01T00:00:00"]


def correction_tables(ctx):
    try:
        from aiapy.calibrate.utils import get_correction_table
    except ImportError:
        from aiapy.calibrate.util import get_correction_table
    out = {}
    for name, relp in TABLES.items():
        p = ctx.data / relp
        t = get_correction_table(p)
        out[name] = {"path": p, "table": t, "file": f"$AIA_DATA_DIR/{relp}",
                     "sha256": common.sha256_file(p),
                     "version": 8 if name == "V8" else 10}
    return out


def degradation_kwargs(ctx, tinfo):
    kw = {"correction_table": tinfo["table"]}
    if ctx.v012:
        kw["calibration_version"] = tinfo["version"]
    return kw


def item_degradation(ctx, item):
    import astropy.units as u
    from astropy.time import Time
    from aiapy.calibrate import degradation

    obs_times = sorted({str(load_map(ctx, k).meta["date-obs"]) for k in REAL_FILES})
    times = obs_times + DEGRADATION_EXTRA_TIMES
    results = {}
    total = 0.0
    tabs = correction_tables(ctx)
    for tname, tinfo in tabs.items():
        table = tinfo["table"]
        waves = sorted({str(w) for w in table["WAVE_STR"]})
        chans = sorted({int(str(w).split("_")[0]) for w in waves})
        res_t = {"file": tinfo["file"], "sha256": tinfo["sha256"], "wave_str": waves,
                 "args": {"correction_table": "get_correction_table(file)",
                          **({"calibration_version": tinfo["version"]} if ctx.v012 else {})},
                 "factors": {}}
        for ch in chans + [1600, 1700, 4500]:
            for t in times:
                k = f"{ch}@{t}"
                if k in res_t["factors"]:
                    continue
                try:
                    v, dt, warns = timed(degradation, ch * u.angstrom, Time(t, scale="utc"),
                                         **degradation_kwargs(ctx, tinfo))
                    arr = np.asarray(v.to_value(u.dimensionless_unscaled))
                    res_t["factors"][k] = {"channel": ch, "time": t, "shape": list(arr.shape),
                                           "value": common.fnum(arr.ravel()[0]),
                                           "wall_time_s": dt}
                    total += dt
                except Exception as exc:  # noqa: BLE001
                    res_t["factors"][k] = {"channel": ch, "time": t, "error": refusal(exc)}
        results[tname] = res_t
    return {"kind": "degradation",
            "call": ("aiapy.calibrate.degradation(channel*u.angstrom, Time(t, scale='utc'), "
                     "correction_table=get_correction_table(file)"
                     + (", calibration_version=V)" if ctx.v012 else ")")),
            "times": times, "real_file_date_obs": obs_times, "tables": results,
            "wall_time_s": total}


def map_output_record(ctx, tag, m_in, out):
    a = np.asarray(out.data)
    h, w = a.shape
    pos = [(0, 0), (h // 2, w // 2), (h - 1, w - 1), (h // 3, w // 4), (2 * h // 3, 3 * w // 4)]
    return {"input_dtype": str(np.asarray(m_in.data).dtype),
            "output": {"shape": list(a.shape), "dtype": str(a.dtype),
                       "sha256_full_le": common.sha256_array_le(a),
                       "bunit": str(out.meta.get("bunit")),
                       "unit": str(out.unit)},
            "stats": common.stats(a), "pixels": sample_pixels(a, pos)}


def item_correct_degradation(ctx, item):
    from aiapy.calibrate import correct_degradation, degradation

    tabs = correction_tables(ctx)
    results = {}
    total = 0.0
    for tname, tinfo in tabs.items():
        for key, m in item_maps(ctx, item):
            r = {"table": tinfo["file"], "input": key, "map_date": m.date.isot,
                 "channel": float(m.wavelength.value)}
            try:
                out, dt, warns = timed(correct_degradation, m, **degradation_kwargs(ctx, tinfo))
            except Exception as exc:  # noqa: BLE001
                r["refused"] = refusal(exc)
                results[f"{tname}:{key}"] = r
                continue
            total += dt
            d = degradation(m.wavelength, m.date, **degradation_kwargs(ctx, tinfo))
            r.update({"wall_time_s": dt, "warnings": warns,
                      "factor": common.fnum(np.asarray(d.value).ravel()[0]),
                      **map_output_record(ctx, f"correct_degradation-{tname}-{key}", m, out)})
            results[f"{tname}:{key}"] = r
    return {"kind": "correct_degradation",
            "call": ("aiapy.calibrate.correct_degradation(map, correction_table=get_correction_table"
                     "(file)" + (", calibration_version=V)" if ctx.v012 else ")")),
            "results": results, "wall_time_s": total}


def item_exposure(ctx, item):
    results = {}
    total = 0.0
    for key, m in item_maps(ctx, item):
        r = {"input": key, "exptime": common.fnum(m.meta["exptime"]),
             "exposure_time_s": common.fnum(m.exposure_time.to_value("s"))}
        try:
            out, dt, warns = timed(lambda mm: mm / mm.exposure_time, m)
        except Exception as exc:  # noqa: BLE001
            r["refused"] = refusal(exc)
            results[key] = r
            continue
        total += dt
        r.update({"wall_time_s": dt, "warnings": warns,
                  **map_output_record(ctx, f"exposure-{key}", m, out)})
        results[key] = r
    return {"kind": "exposure", "call": "map / map.exposure_time", "results": results,
            "wall_time_s": total}


# ---------------------------------------------------------------------------------------------
# driver

ITEM_FUNCS = {
    "psf": item_psf,
    "psf_native_simd": item_psf_native_simd,
    "derived": item_derived,
    "deconvolve": item_deconvolve,
    "full_disk": item_full_disk,
    "register": item_register,
    "update_pointing": item_update_pointing,
    "degradation": item_degradation,
    "correct_degradation": item_correct_degradation,
    "exposure": item_exposure,
}


def run_item(ctx, item):
    kind = item.split(":", 1)[0]
    fn = ITEM_FUNCS[kind]
    t0 = time.perf_counter()
    TIMINGS.clear()
    try:
        rec = fn(ctx, item)
    except Exception as exc:  # noqa: BLE001 - record, do not hide
        rec = {"kind": kind, "error": refusal(exc), "traceback": traceback.format_exc()}
    rec["item"] = item
    rec["aiapy_version"] = ctx.aiapy_version
    rec["versions"] = ctx.versions
    rec["generated_by"] = ctx.generated_by
    rec["item_total_time_s"] = time.perf_counter() - t0
    rec["timings"] = list(TIMINGS)
    rec["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    common.write_json(ctx.record_path(item), rec)
    return rec


def rebuild_index(ctx):
    import json

    items = {}
    for p in sorted(ctx.items_dir.glob("*.json")):
        rec = json.loads(p.read_text())
        rec = {k: v for k, v in rec.items() if k != "versions"} | {
            "versions_summary": {k: rec["versions"].get(k) for k in
                                 ["numpy", "scipy", "astropy", "sunpy", "aiapy", "python",
                                  "cupy_importable", "jax_importable", "cv2_importable"]}
            | {"NPY_DISABLE_CPU_FEATURES":
               rec["versions"]["env"].get("NPY_DISABLE_CPU_FEATURES")},
            "record": common.rel(p)}
        items[rec["item"]] = rec
    index = {
        "aiapy_version": ctx.aiapy_version,
        "versions": ctx.versions,
        "generated_by": ctx.generated_by,
        "data_dir": "$AIA_DATA_DIR (default ../shared/aia relative to the repo root)",
        "items": items,
        "missing_items": [i for i in all_items() if i not in items],
    }
    common.write_json(ctx.out / "index.json", index)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", default="all",
                    help="comma-separated items or kinds (e.g. psf:171,register,deconvolve)")
    ap.add_argument("--force", action="store_true", help="recompute items whose record exists")
    ap.add_argument("--native-simd", action="store_true",
                    help="do not set NPY_DISABLE_CPU_FEATURES (for comparison runs only)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--psf-to-npy", nargs=2, metavar=("CHANNEL", "NPY"),
                    help=argparse.SUPPRESS)  # internal: child of psf_native_simd
    ap.add_argument("--aiapy-venv", help="oracle venv to run under (re-executes with its python), "
                    "e.g. .oracle/venv-0.10.2 or .oracle/venv-0.12.1")
    args = ap.parse_args()

    if args.list:
        print("\n".join(all_items()))
        return
    if args.psf_to_npy:
        psf_to_npy(int(args.psf_to_npy[0]), args.psf_to_npy[1])
        return
    ctx = Ctx(args)
    if ctx.versions["cupy_importable"] or ctx.versions["jax_importable"]:
        sys.exit("cupy or jax is importable: aiapy would use it; use a clean oracle venv")
    if args.native_simd:
        sys.exit("--native-simd output would overwrite the pinned goldens; not supported here")
    wanted = all_items() if args.items == "all" else []
    if args.items != "all":
        for tok in args.items.split(","):
            tok = tok.strip()
            if ":" in tok:
                if tok not in all_items():
                    sys.exit(f"unknown item {tok}; --list shows them")
                wanted.append(tok)
            else:
                sel = [i for i in all_items() if i.split(":", 1)[0] == tok]
                if not sel:
                    sys.exit(f"unknown item kind {tok}")
                wanted += sel
    ctx.out.mkdir(parents=True, exist_ok=True)
    for item in wanted:
        if ctx.record_path(item).exists() and not args.force:
            print(f"[skip] {item} (record exists)", flush=True)
            continue
        kind = item.split(":", 1)[0]
        if kind not in ITEM_FUNCS:
            print(f"[todo] {item} not implemented", flush=True)
            continue
        print(f"[run ] {item} ...", flush=True)
        rec = run_item(ctx, item)
        if "error" in rec:
            msg = f"ERROR {rec['error']}"
        elif "refused" in rec:
            msg = f"refused by aiapy: {rec['refused']}"
        else:
            msg = f"aiapy {rec.get('wall_time_s') or 0:.2f}s"
        print(f"[done] {item}: {msg} (total {rec['item_total_time_s']:.1f}s)", flush=True)
        rebuild_index(ctx)
    rebuild_index(ctx)


if __name__ == "__main__":
    main()
