#!/usr/bin/env python3
"""Produce aiapy goldens for the aiaccel reference port (shared/docs/ALGORITHMS.md §8 recipe).

Run it with the python of one oracle venv (tools/oracle/setup makes them):

    .oracle/venv-0.10.2/bin/python tools/oracle/golden_aiapy.py [--items psf:171,register,...]
    .oracle/venv-0.12.1/bin/python tools/oracle/golden_aiapy.py

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--native-simd", action="store_true")
_pre_args, _ = _pre.parse_known_args()
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
TABLES = {
    "V10": "tables/aia_V10_20201023_180000_response_table.txt",
    "V8": "tables/aia_V8_20171210_050627_response_table.txt",
}


def all_items() -> list[str]:
    items = [f"psf:{c}" for c in EUV_CHANNELS] + ["psf:171-preflight"]
    items += ["derived"]
    items += [f"deconvolve:{n}" for n in DECONV_ITERATIONS]
    items += ["deconvolve:25-float32"]
    items += ["full_disk"]
    items += [f"register:{k}" for k in REAL_FILES] + ["register:derived"]
    items += ["update_pointing"]
    items += ["degradation", "correct_degradation", "exposure"]
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


def crop_center(a, half=CROP_HALF, center=None):
    cy, cx = center if center is not None else (a.shape[0] // 2, a.shape[1] // 2)
    return a[cy - half: cy + half + 1, cx - half: cx + half + 1]


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

    return sunpy.map.Map(str(ctx.data / REAL_FILES[key]))


def timed(fn, *a, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        res = fn(*a, **kw)
        dt = time.perf_counter() - t0
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
    files = {
        "crop_center_513": common.save_array(ctx.path(f"{tag}-crop513.fits.gz"), crop_center(psf)),
        "blocksum_16": common.save_array(ctx.path(f"{tag}-blocksum16.fits.gz"),
                                         block_reduce(psf, 16, "sum")),
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
        "notes": ("crop_center_513 = psf[1792:2305, 1792:2305]; blocksum_16 = "
                  "psf.reshape(256,16,256,16).sum(axis=(1,3)) in float64"),
    }


# ---------------------------------------------------------------------------------------------
# driver

ITEM_FUNCS = {
    "psf": item_psf,
}


def run_item(ctx, item):
    kind = item.split(":", 1)[0]
    fn = ITEM_FUNCS[kind]
    t0 = time.perf_counter()
    try:
        rec = fn(ctx, item)
    except Exception as exc:  # noqa: BLE001 - record, do not hide
        rec = {"kind": kind, "error": refusal(exc), "traceback": traceback.format_exc()}
    rec["item"] = item
    rec["aiapy_version"] = ctx.aiapy_version
    rec["versions"] = ctx.versions
    rec["generated_by"] = ctx.generated_by
    rec["item_total_time_s"] = time.perf_counter() - t0
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
    ap.add_argument("--aiapy-venv", help="informational; run the script with that venv's python")
    args = ap.parse_args()

    if args.list:
        print("\n".join(all_items()))
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
        msg = f"ERROR {rec['error']}" if "error" in rec else f"aiapy {rec.get('wall_time_s', 0):.2f}s"
        print(f"[done] {item}: {msg} (total {rec['item_total_time_s']:.1f}s)", flush=True)
        rebuild_index(ctx)
    rebuild_index(ctx)


if __name__ == "__main__":
    main()
