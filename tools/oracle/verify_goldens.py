#!/usr/bin/env python3
"""Check testdata/golden: every array file referenced by an item record exists, loads with
astropy.io.fits, and has the recorded shape, dtype and sha256 of its data; JSON files parse;
prints the total size. Exit status 1 on any mismatch.

    .oracle/venv-0.10.2/bin/python tools/oracle/verify_goldens.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import numpy as np  # noqa: E402


def main() -> int:
    bad = 0
    n_files = 0
    referenced = set()
    for rec_path in sorted(common.GOLDEN_DIR.glob("aiapy-*/items/*.json")):
        rec = json.loads(rec_path.read_text())
        if "error" in rec:
            print(f"ERROR record {common.rel(rec_path)}: {rec['error']}")
            bad += 1
        for name, desc in (rec.get("files") or {}).items():
            p = common.REPO_ROOT / desc["file"]
            referenced.add(p.resolve())
            if not p.is_file():
                print(f"MISSING {desc['file']} ({common.rel(rec_path)}:{name})")
                bad += 1
                continue
            a = common.load_array(p)
            n_files += 1
            want_dtype = np.dtype(desc["stored_dtype"])
            ok = (list(a.shape) == desc["shape"] and a.dtype == want_dtype
                  and common.sha256_array_le(a.astype(desc["dtype"])) == desc["sha256_data_le"])
            if not ok:
                print(f"MISMATCH {desc['file']}: shape {a.shape} dtype {a.dtype}")
                bad += 1
    for p in sorted(common.GOLDEN_DIR.rglob("*.fits.gz")):
        if p.resolve() not in referenced:
            print(f"UNREFERENCED {common.rel(p)}")
    for p in sorted(common.GOLDEN_DIR.rglob("*.json")):
        json.loads(p.read_text())
    total = sum(p.stat().st_size for p in common.GOLDEN_DIR.rglob("*") if p.is_file())
    print(f"{n_files} array files verified, {bad} problems, testdata/golden total "
          f"{total / 2**20:.1f} MiB")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
