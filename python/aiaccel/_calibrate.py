"""Map level: aiapy-compatible update_pointing / correct_degradation over aiaccel's C++ reference
calibration (reference/calibrate_reference.*, the code `aiaccel prep` runs).

Tables are local files (nothing is fetched): ``pointing_table`` is the master pointing table as a
CSV/text file (or an astropy Table, written to a temporary CSV first), ``correction_table`` an SSW
response table file (aia_V*_response_table.txt). Semantics are aiapy 0.10.2's unless
``aiapy_version="0.12.1"`` (or, for correct_degradation, a ``calibration_version``) is given.
"""
import copy
import os
import tempfile
import warnings

import numpy as np

from aiaccel import _core
from aiaccel._maps import _name, _updated_meta, _user_warning, contains_full_disk

LATEST_CORRECTION_VERSION = 10


def _table_file(table, kind):
    """A path for the C++ reader: path-likes as they are; an astropy Table written as CSV (times as
    ISO strings, masked/NaN cells empty). Returns (path, temporary or None)."""
    if isinstance(table, str | os.PathLike):
        return os.fspath(table), None
    if table is None or not hasattr(table, "colnames"):
        raise TypeError(f"{kind} must be a file path or an astropy Table, not {type(table).__name__}")
    tmp = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    with tmp:
        tmp.write(",".join(table.colnames) + "\n")
        columns = []
        for name in table.colnames:
            col = table[name]
            if hasattr(col, "isot"):
                columns.append([str(v) for v in col.isot])
                continue
            values = getattr(col, "value", col)
            mask = np.ma.getmaskarray(values)
            out = []
            for v, m in zip(np.asarray(values).tolist(), mask.tolist(), strict=True):
                out.append("" if m or (isinstance(v, float) and np.isnan(v)) else repr(v) if isinstance(v, float) else str(v))
            columns.append(out)
        for row in zip(*columns, strict=True):
            tmp.write(",".join(row) + "\n")
    return tmp.name, tmp.name


def update_pointing(smap, *, pointing_table, aiapy_version="0.10.2"):
    """Update CRPIX1/2, CDELT1/2, CROTA2, X0_MP, Y0_MP from the master pointing table and drop the
    PCi_j keys, as aiapy.calibrate.update_pointing; returns a new Map (same data, deep-copied meta)."""
    if aiapy_version == "0.10.2":
        if not contains_full_disk(smap):
            raise ValueError("Input must be a full disk image.")
        if smap.data.shape != (4096, 4096):
            raise ValueError("Input must be at the full resolution of (4096, 4096)")
    path, tmp = _table_file(pointing_table, "pointing_table")
    try:
        header, notes = _core.update_pointing(smap.data, smap.meta, pointing_table=path, aiapy_version=aiapy_version,
                                              name=_name(smap))
    except ValueError as e:
        if "no row of the pointing table" in str(e):
            raise IndexError(str(e)) from None  # aiapy: IndexError "No valid entries for ..."
        raise
    finally:
        if tmp:
            os.unlink(tmp)
    for note in notes:
        warnings.warn(note, _user_warning(), stacklevel=2)
    meta = _updated_meta(smap.meta, header)
    skipped = {n.split(" for ", 1)[1].split(".", 1)[0].lower() for n in notes if n.startswith("Missing value")}
    for key in ("crpix1", "crpix2", "x0_mp", "y0_mp", "cdelt1", "cdelt2", "crota2"):
        if key in header and key not in skipped:
            meta[key] = np.float64(header[key])  # aiapy stores Quantity.to_value results (numpy floats)
    for key in ("pc1_1", "pc1_2", "pc2_1", "pc2_2"):
        meta.pop(key, None)
    return smap._new_instance(smap.data, meta, plot_settings=smap.plot_settings, mask=smap.mask)


def correct_degradation(smap, *, correction_table, calibration_version=None, aiapy_version=None):
    """Divide by the time-dependent degradation factor, as aiapy.calibrate.correct_degradation
    (``smap / degradation(smap.wavelength, smap.date, ...)``); returns a new float64 Map.

    calibration_version: None → aiapy 0.10.2 (no VER_NUM filter); an int → aiapy 0.12.1 semantics
    with that calibration version."""
    if aiapy_version is None:
        aiapy_version = "0.10.2" if calibration_version is None else "0.12.1"
    version = LATEST_CORRECTION_VERSION if calibration_version is None else int(calibration_version)
    path, tmp = _table_file(correction_table, "correction_table")
    try:
        data, header, _factor = _core.correct_degradation(smap.data, smap.meta, correction_table=path,
                                                          aiapy_version=aiapy_version, calibration_version=version,
                                                          name=_name(smap))
    finally:
        if tmp:
            os.unlink(tmp)
    meta = copy.deepcopy(smap.meta)
    meta["bunit"] = header.get("bunit", meta.get("bunit"))
    return smap._new_instance(data, meta, plot_settings=smap.plot_settings)
