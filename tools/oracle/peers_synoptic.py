"""Synoptic stage of tools/oracle/peers.py: every register peer on each of the six real 1024² EUV
images of $AIA_DATA_DIR/synoptic (JSOC synoptic, level 1.5, 2.4″/px; MANIFEST `synoptic/`), each
file judged against aiaccel's reference output of that file by validate's register bound; a peer's
row sums its six (median time, worst error, flux ratio farthest from 1, PASSED only if all pass).
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import peers_driver as pd
import peers_report as pr

CHANNELS = (94, 131, 171, 193, 211, 335)
STAGE = "register (synoptic 1024²)"


def default_dir() -> Path:
    env = os.environ.get("AIA_DATA_DIR")
    return (Path(env) if env else pd.REPO.parent / "shared" / "aia") / "synoptic"


def synoptic_files(folder: Path) -> list[Path]:
    return [folder / f"AIA20140101_0000_{c:04d}.fits" for c in CHANNELS]


def geometry_note(files) -> str:
    """What aiapy's register does to these files, read from their headers (never R_SUN)."""
    from astropy.io import fits

    identity = True
    for f in files:
        h = fits.getheader(f, 1)
        n = int(h["NAXIS1"])
        identity &= (float(h.get("CROTA2", 0.0)) == 0.0 and float(h["CRPIX1"]) == float(h["CRPIX2"]) == (n + 1) / 2
                     and float(h.get("CRVAL1", 0.0)) == float(h.get("CRVAL2", 0.0)) == 0.0 and float(h["CDELT1"]) == 2.4)
    return ("Every file is already north up (CROTA2 0), 2.4″/px, with the Sun centre (CRVAL 0, 0) at the array centre "
            "(CRPIX 512.5): register's transform is the identity, so this section measures how exactly each peer "
            "reproduces the image it is given, and what that costs per 1024² image."
            if identity else "The files are not all centred and north up: register moves them.")


def description(files) -> str:
    return ("register on the six real synoptic full-disk EUV images (94, 131, 171, 193, 211, 335 Å; "
            "$AIA_DATA_DIR/synoptic/AIA20140101_0000_<channel>.fits, 1024², level 1.5, RICE-compressed). aiapy's "
            "register keeps a rescaled map's plate scale (target 0.6″/px × round(2.4/0.6) = 2.4″/px, output 1024²), "
            "and warns that the input is not level 1; every peer here does the same (the sunpy ones call aiapy's "
            "register, the OpenCV-only one applies aiapy's target-scale rule). " + geometry_note(files) +
            " s / image: median over the six files; max|Δ|/max (and on disk): the worst file; flux ratio: the one "
            "farthest from 1, over the disk of the reference output's WCS and RSUN_OBS (not R_SUN, which holds the "
            "4096² frame's ≈1625 px in these files); verdict: PASSED only when every file passes. Per-file figures "
            "in the breakdown below.")


def peer_rows(peers, files, work: Path) -> list[dict]:
    """One row per peer (aiaccel's first), each with the per-file timings and outputs under 'files'."""
    def summed(per):
        return {"time_s": statistics.median(p["time_s"] for p in per), "files": per,
                **{k: per[0][k] for k in ("target", "fft") if k in per[0]}}

    def cli(opts, outs):
        return [dict(peers.cli(["register", str(f), "-o", str(o), *opts], peers.repetitions), output=str(o))
                for f, o in zip(files, outs)]

    rows = []
    for label, opts, prec, th, note in pd.AIACCEL_CONFIGS:
        outs = [work / f"{'-'.join(opts[1::2])}-{c:04d}.fits" for c in CHANNELS]
        rows.append(pd.attempt(STAGE, label, "aiaccel " + " ".join(opts[:2]), prec, th, lambda: summed(cli(opts, outs)), note))
    for label, impl, venv, peer, th, note in pd.REGISTER_PEERS:
        outs = [work / f"{peer}-{venv}-{c:04d}.npy" for c in CHANNELS]
        rows.append(pd.attempt(STAGE, label, impl, "f64", th, lambda: summed(peers.python(venv, peer, files, outs)), note))
    return rows


def judge_files(rows) -> None:
    """Each file of each row against the reference row's (rows[0]) output of that file; then each
    row's sums over the files (peers_report.aggregate)."""
    def file_of(row, i):
        return row["files"][i] if row.get("files") else {}

    for i, channel in enumerate(CHANNELS):
        per = [{"precision": r["precision"], "error": r["error"], "output": file_of(r, i).get("output")} for r in rows]
        ref_out = file_of(rows[0], i).get("output")
        ref, hdr = pd.read_reference(Path(ref_out), STAGE) if ref_out else (None, None)
        pd.judge(per, ref, hdr, "register")
        for r, p in zip(rows, per):
            r.setdefault("channels", {})[str(channel)] = {"time_s": file_of(r, i).get("time_s"), "verdict": p["verdict"],
                                                         "metrics": p.get("metrics"), "bound": p.get("bound")}
    for r in rows:
        r.pop("files", None)
        r["metrics"], r["verdict"], r["bound"] = pr.aggregate(r["channels"])


def synoptic_stage(peers, folder: Path) -> dict:
    bound, reason = pr.read_bound(pd.TOLERANCES, "register", "f64")
    doc = {"stage": STAGE, "bound": bound, "bound_reason": reason, "rows": [], "channels": list(CHANNELS)}
    files = synoptic_files(folder)
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        doc["description"] = "register on the six real synoptic 1024² EUV images: not run."
        doc["skipped"] = f"{folder}: {len(missing)} of the six files absent ({', '.join(missing)}); set AIA_DATA_DIR or --synoptic-dir"
        pd.log(f"{STAGE}: skipped: {doc['skipped']}")
        return doc
    work = peers.work.parent / "synoptic"
    work.mkdir(parents=True, exist_ok=True)
    doc["rows"] = peer_rows(peers, files, work)
    judge_files(doc["rows"])
    doc["description"] = description(files)
    return doc
