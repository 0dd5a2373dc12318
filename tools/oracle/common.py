"""Helpers shared by the golden-generating oracle scripts in tools/oracle/.

Locates the repository and the shared AIA data, records the software/CPU environment
(`versions()`), writes arrays as gzip-compressed FITS (`save_array`), writes JSON with sorted keys
(`write_json`) and hashes files/arrays (`sha256_file`, `sha256_array_le`).

The oracle must run without cupy/jax (aiapy would silently use them) and with the numpy CPU
dispatch pinned (see docs/algorithms.md §7.1); `ensure_cpu_env()` re-executes the calling
script with those settings when they are missing.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import json
import math
import os
import platform
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = REPO_ROOT / "testdata" / "golden"

# numpy >= 2.4 groups its x86 dispatch targets as X86_V2 (baseline), X86_V3, X86_V4, AVX512_ICL,
# AVX512_SPR. The AVX512F/AVX512_SKX/... names of docs/algorithms.md §7.1 (numpy 1.x) are still accepted
# by the parser but no longer switch anything off except AVX512_ICL (checked on numpy 2.4.6): the
# float64 exp stays on the AVX-512 kernel. Disabling the three AVX-512 targets below makes numpy's
# float64 exp fall back to glibc exp (checked bitwise on 200k values).
NPY_DISABLE_CPU_FEATURES_VALUE = "X86_V4 AVX512_ICL AVX512_SPR"

# One core only: the other one is for C++ builds.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def data_dir() -> Path:
    """Shared AIA data: $AIA_DATA_DIR, else <repo>/../shared/aia."""
    env = os.environ.get("AIA_DATA_DIR")
    if env:
        return Path(env).resolve()
    return (REPO_ROOT.parent / "shared" / "aia").resolve()


def rel(path) -> str:
    """Path relative to the repo root where possible (never write absolute paths into goldens)."""
    p = Path(path).resolve()
    for base, prefix in ((REPO_ROOT, ""), (data_dir(), "$AIA_DATA_DIR/")):
        try:
            return prefix + str(p.relative_to(base))
        except ValueError:
            pass
    return p.name


def ensure_cpu_env(disable_features: bool = True) -> None:
    """Re-exec the current script with pinned numpy CPU dispatch and single-threaded BLAS.

    Must be called before numpy does any work that matters (numpy reads the variable at import,
    so a re-exec is the only reliable way). Pass disable_features=False for a native-SIMD run.
    """
    want = dict(THREAD_ENV)
    if disable_features:
        want["NPY_DISABLE_CPU_FEATURES"] = NPY_DISABLE_CPU_FEATURES_VALUE
    missing = {k: v for k, v in want.items() if os.environ.get(k) != v}
    if not disable_features and "NPY_DISABLE_CPU_FEATURES" in os.environ:
        missing["NPY_DISABLE_CPU_FEATURES"] = None
    if not missing or os.environ.get("AIAACCEL_ORACLE_REEXEC") == "1":
        return
    env = dict(os.environ)
    for k, v in missing.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["AIAACCEL_ORACLE_REEXEC"] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def numpy_cpu_info() -> dict:
    try:
        from numpy._core._multiarray_umath import (  # numpy >= 2
            __cpu_baseline__,
            __cpu_dispatch__,
            __cpu_features__,
        )
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import (  # type: ignore
            __cpu_baseline__,
            __cpu_dispatch__,
            __cpu_features__,
        )
    enabled = sorted(k for k, v in __cpu_features__.items() if v)
    return {
        "baseline": list(__cpu_baseline__),
        "dispatch_targets_built": list(__cpu_dispatch__),
        "dispatch_targets_enabled": [d for d in __cpu_dispatch__ if __cpu_features__.get(d)],
        "features_enabled": enabled,
    }


def _blas_info() -> dict:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return {"name": blas.get("name"), "version": blas.get("version"),
                "openblas_configuration": blas.get("openblas configuration")}
    except Exception:  # noqa: BLE001
        return {}


def versions() -> dict:
    import astropy
    import scipy
    import sunpy

    try:
        import aiapy

        aiapy_version = aiapy.__version__
    except Exception:  # noqa: BLE001
        aiapy_version = None
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "astropy": astropy.__version__,
        "sunpy": sunpy.__version__,
        "aiapy": aiapy_version,
        "cupy_importable": _importable("cupy"),
        "jax_importable": _importable("jax"),
        "cv2_importable": _importable("cv2"),
        "numpy_cpu": numpy_cpu_info(),
        "numpy_blas": _blas_info(),
        "env": {k: os.environ.get(k) for k in
                ["NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", *THREAD_ENV]},
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
    }


def generated_by(script: str) -> dict:
    exe = Path(os.path.abspath(sys.executable))  # venv path, not the resolved interpreter
    try:
        exe_s = str(exe.relative_to(REPO_ROOT))
    except ValueError:
        exe_s = exe.name
    return {"script": rel(script), "argv": [rel(sys.argv[0])] + sys.argv[1:],
            "python_executable": exe_s}


# ---------------------------------------------------------------------------------------------
# arrays and files


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_array_le(arr) -> str:
    """sha256 of the C-order little-endian bytes of `arr` in its own dtype (bool as uint8)."""
    a = np.asarray(arr)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def save_array(path, arr, header_cards: dict | None = None) -> dict:
    """Write `arr` as a gzip-compressed FITS PrimaryHDU (`.fits.gz`) with astropy.io.fits.

    The dtype is kept (float64 -> BITPIX -64, float32 -> -32, int16 -> 16, ...); bool is stored as
    uint8 (BITPIX 8). No BSCALE/BZERO/BLANK is written. FITS stores big-endian, row-major with
    NAXIS1 = last numpy axis. Returns a small description dict (file, shape, dtype, sha256s).
    """
    from astropy.io import fits

    path = Path(path)
    if not path.name.endswith(".fits.gz"):
        raise ValueError("save_array writes .fits.gz files")
    a = np.asarray(arr)
    stored = a.astype(np.uint8) if a.dtype == np.bool_ else a
    if stored.dtype.kind not in "fiu":
        raise TypeError(f"unsupported dtype {a.dtype}")
    if stored.dtype.kind == "u" and stored.dtype != np.uint8:
        raise TypeError("unsigned >8-bit would need BZERO; convert first")
    hdu = fits.PrimaryHDU(np.ascontiguousarray(stored))
    for k, v in (header_cards or {}).items():
        hdu.header[k] = v
    buf = io.BytesIO()
    hdu.writeto(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # mtime=0 and no file name in the gzip header -> deterministic bytes
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                               compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue())
    os.replace(tmp, path)
    return {
        "file": rel(path),
        "shape": list(a.shape),
        "dtype": str(a.dtype),
        "stored_dtype": str(stored.dtype),
        "sha256_data_le": sha256_array_le(a),
        "bytes": path.stat().st_size,
    }


def load_array(path) -> np.ndarray:
    from astropy.io import fits

    with fits.open(path) as hl:
        d = hl[0].data
        return d.astype(d.dtype.newbyteorder("="))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return rel(o)
    return str(o)


def _sanitize(o):
    """Replace non-finite floats (invalid JSON) by strings 'nan', 'inf', '-inf'."""
    if isinstance(o, dict):
        return {str(k): _sanitize(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_sanitize(v) for v in o]
    if isinstance(o, np.ndarray):
        return _sanitize(o.tolist())
    if isinstance(o, (float, np.floating)):
        f = float(o)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(o, np.generic):
        return o.item()
    return o


def write_json(path, obj) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(_sanitize(obj), f, sort_keys=True, indent=1, default=_json_default)
        f.write("\n")
    os.replace(tmp, path)


def fhex(x) -> str:
    return float(x).hex()


def fnum(x) -> dict:
    """A float as {repr, hex} so the C++ side can compare exactly."""
    f = float(x)
    return {"repr": repr(f), "hex": f.hex()}


def stats(arr) -> dict:
    """Summary statistics computed in float64 (nan-ignoring), with hex floats for exactness."""
    a = np.asarray(arr)
    af = a.astype(np.float64)
    finite = np.isfinite(af)
    n_nan = int(np.isnan(af).sum())
    out = {"shape": list(a.shape), "dtype": str(a.dtype), "n_nan": n_nan,
           "n_inf": int(np.isinf(af).sum()), "n_zero": int((af == 0).sum()),
           "n_negative": int((af < 0).sum())}
    if finite.any():
        v = af[finite]
        amax = np.nanargmax(np.where(finite, af, -np.inf))
        amin = np.nanargmin(np.where(finite, af, np.inf))
        out.update({
            "min": fnum(v.min()), "max": fnum(v.max()),
            "mean": fnum(v.mean()), "sum": fnum(v.sum()),
            "sum_abs": fnum(np.abs(v).sum()),
            "l2": fnum(math.sqrt(float(np.dot(v, v)))),
            "argmax": [int(i) for i in np.unravel_index(amax, a.shape)],
            "argmin": [int(i) for i in np.unravel_index(amin, a.shape)],
        })
    return out
