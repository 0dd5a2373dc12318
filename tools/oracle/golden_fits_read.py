#!/usr/bin/env python3
"""Golden for FITS reading: what astropy.io.fits and sunpy.map.Map give for each real AIA file.

For every .fits file in $AIA_DATA_DIR (default <repo>/../shared/aia) records, for the image HDU
(HDU 1 if tile-compressed, else 0): shape, dtype, BITPIX/ZBITPIX, BLANK/BSCALE/BZERO, NaN count,
nan-ignoring float64 min/max/mean/sum, ~20 pixel values at fixed positions (repr + float.hex),
and the sha256 of the whole array's C-order little-endian bytes in its own dtype, for three readers:
  astropy      fits.open(f)[i].data                        (default scaling)
  astropy_raw  fits.open(f, do_not_scale_image_data=True)  (stored integers / floats)
  sunpy        sunpy.map.Map(f).data
plus selected header values as astropy reads them. Writes testdata/golden/fits_read.json.
Run with the 0.10.2 oracle venv:  .oracle/venv-0.10.2/bin/python tools/oracle/golden_fits_read.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.ensure_cpu_env()

import numpy as np  # noqa: E402
from astropy.io import fits  # noqa: E402

HEADER_KEYS = ["NAXIS1", "NAXIS2", "WAVELNTH", "WAVEUNIT", "EXPTIME", "DATE-OBS", "T_OBS",
               "LVL_NUM", "CDELT1", "CDELT2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CROTA2",
               "CUNIT1", "CUNIT2", "CTYPE1", "CTYPE2", "RSUN_OBS", "R_SUN", "RSUN_REF",
               "DSUN_OBS", "X0_MP", "Y0_MP", "IMSCL_MP", "INST_ROT", "SAT_ROT", "MPO_REC",
               "HGLN_OBS", "HGLT_OBS", "CRLN_OBS", "CRLT_OBS", "HAEX_OBS", "HAEY_OBS", "HAEZ_OBS",
               "DATAMIN", "DATAMAX", "MISSVALS", "BUNIT", "TELESCOP", "INSTRUME"]
SCALING_KEYS = ["BITPIX", "BLANK", "BSCALE", "BZERO"]
RAW_COMPRESSION_KEYS = ["ZBITPIX", "ZCMPTYPE", "ZQUANTIZ", "ZBLANK", "BLANK", "BSCALE", "BZERO",
                        "ZTILE1", "ZTILE2", "ZVAL1", "ZVAL2", "ZVAL3"]


def jsonable(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return common.fnum(v)
    return str(v)


def positions(shape, extra=()):
    h, w = shape
    pos = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (h // 2, w // 2),
           (h // 2 - 1, w // 2 - 1), (h // 4, w // 4), (h // 4, 3 * w // 4),
           (3 * h // 4, w // 4), (3 * h // 4, 3 * w // 4), (h // 3, w // 5),
           (2 * h // 3, 4 * w // 5), (1, 1), (h - 2, w - 2), (h // 2, 0), (0, w // 2),
           (17 % h, 31 % w), (h // 7, w // 3)]
    pos += [p for p in extra if p[0] < h and p[1] < w]
    seen, out = set(), []
    for p in pos:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def describe_array(a, pos):
    a = np.asarray(a)
    af = a.astype(np.float64)
    fin = np.isfinite(af)
    d = {
        "shape": list(a.shape),
        "dtype": a.dtype.str,  # includes byte order as held in memory, e.g. '>f8'
        "dtype_name": a.dtype.name,
        "n_nan": int(np.isnan(af).sum()),
        "sha256_le": common.sha256_array_le(a),
    }
    if fin.any():
        v = af[fin]
        d.update({"min": common.fnum(v.min()), "max": common.fnum(v.max()),
                  "mean": common.fnum(v.mean()), "sum": common.fnum(v.sum())})
        d["argmin"] = [int(i) for i in np.unravel_index(np.argmin(np.where(fin, af, np.inf)), a.shape)]
        d["argmax"] = [int(i) for i in np.unravel_index(np.argmax(np.where(fin, af, -np.inf)), a.shape)]
    pix = []
    for r, c in pos:
        v = a[r, c]
        pix.append({"row": r, "col": c, "repr": repr(float(v)), "hex": float(v).hex(),
                    **({"stored": int(v)} if a.dtype.kind in "iu" else {})})
    d["pixels"] = pix
    return d


def read_one(path: Path) -> dict:
    rec = {"file": common.rel(path), "size": path.stat().st_size,
           "sha256": common.sha256_file(path)}
    with fits.open(path, disable_image_compression=True) as hl:
        rec["hdus"] = [type(h).__name__ for h in hl]
        idx = 1 if len(hl) > 1 and hl[1].header.get("ZIMAGE", False) else 0
        rec["image_hdu"] = idx
        rec["tile_compressed"] = idx == 1
        if idx == 1:
            h = hl[1].header
            rec["compressed_hdu_header"] = {k: jsonable(h[k]) for k in RAW_COMPRESSION_KEYS if k in h}
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        with fits.open(path) as hl:
            hdu = hl[idx]
            data = hdu.data
            hdr = hdu.header
            rec["astropy_header_scaling"] = {k: jsonable(hdr[k]) for k in SCALING_KEYS if k in hdr}
            rec["header"] = {k: jsonable(hdr[k]) for k in HEADER_KEYS if k in hdr}
            extra = []
            if data.shape == (2048, 2048):  # 1600 A low-res: -32768 band in rows 0..647
                extra = [(0, 1024), (100, 1000), (300, 2047), (647, 1024), (648, 1024),
                         (649, 500), (1023, 1029)]
            pos = positions(data.shape, extra)
            rec["pixel_positions_note"] = "(row, col) 0-based numpy order; row 0 = first FITS row"
            rec["astropy"] = describe_array(data, pos)
    rec["astropy"]["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in wlist})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path, do_not_scale_image_data=True) as hl:
            hdu = hl[idx]
            rec["astropy_raw"] = describe_array(hdu.data, pos)
            rec["astropy_raw"]["header_scaling"] = {k: jsonable(hdu.header[k])
                                                    for k in SCALING_KEYS if k in hdu.header}
    import sunpy.map

    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        m = sunpy.map.Map(str(path))
    rec["sunpy"] = describe_array(m.data, pos)
    rec["sunpy"]["map_class"] = type(m).__name__
    rec["sunpy"]["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in wlist})
    rec["sunpy"]["bitwise_equal_to_astropy"] = bool(
        np.array_equal(np.asarray(m.data), np.asarray(data), equal_nan=True)
        and m.data.dtype == data.dtype)
    rec["sunpy"]["meta"] = {k: jsonable(m.meta[k.lower()]) for k in HEADER_KEYS
                            if k.lower() in m.meta}
    rec["sunpy"]["processing_level"] = jsonable(m.processing_level)
    rec["sunpy"]["reference_date"] = m.reference_date.isot
    rec["sunpy"]["date"] = m.date.isot
    rec["sunpy"]["exposure_time_s"] = common.fnum(m.exposure_time.to_value("s"))
    return rec


def main():
    ddir = common.data_dir()
    files = sorted(ddir.glob("*.fits"))
    out = {
        "generated_by": common.generated_by(__file__),
        "versions": common.versions(),
        "data_dir": "$AIA_DATA_DIR (default ../shared/aia relative to the repo root)",
        "notes": ("sha256_le = sha256 of the C-order array bytes converted to little-endian in the "
                  "array's own dtype (numpy: a.astype(a.dtype.newbyteorder('<')).tobytes()). "
                  "Floats are given as {repr, hex}; stats are nan-ignoring and computed in float64 "
                  "with numpy (pairwise) sums."),
        "files": {},
    }
    for f in files:
        print(f"reading {f.name}", flush=True)
        out["files"][f.name] = read_one(f)
    dest = common.GOLDEN_DIR / "fits_read.json"
    common.write_json(dest, out)
    print(f"wrote {common.rel(dest)}")


if __name__ == "__main__":
    main()
