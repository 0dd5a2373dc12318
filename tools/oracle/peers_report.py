"""Metrics, verdicts and the report (JSON, Markdown, HTML with an inline SVG frontier chart) of
tools/oracle/peers.py. numpy only (scipy optional), so the unit test runs in any venv with numpy.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import numpy as np

# Pixels closer than this to an input fill value (-32768 in the 1600 Å file) are left out of the
# flux ratio: every interpolator rings differently across that cliff, and it is not solar flux.
FILL_FLOOR = -1000.0
FILL_MARGIN_PX = 7


def disk_mask(shape, header: dict) -> np.ndarray:
    """True inside the solar disk (RSUN_OBS around the WCS reference point, CRVAL assumed ~0)."""
    ny, nx = shape
    cdelt = float(header["CDELT1"])
    cx = float(header["CRPIX1"]) - 1.0 - float(header.get("CRVAL1", 0.0)) / cdelt
    cy = float(header["CRPIX2"]) - 1.0 - float(header.get("CRVAL2", 0.0)) / float(header.get("CDELT2", cdelt))
    r = float(header["RSUN_OBS"]) / cdelt
    y, x = np.ogrid[:ny, :nx]
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def away_from_fill(ref: np.ndarray) -> np.ndarray:
    """False within FILL_MARGIN_PX of a pixel below FILL_FLOOR (or non-finite) in the reference."""
    bad = ~np.isfinite(ref) | (ref < FILL_FLOOR)
    if not bad.any():
        return np.ones(ref.shape, bool)
    try:
        from scipy.ndimage import binary_dilation

        bad = binary_dilation(bad, iterations=FILL_MARGIN_PX)
    except ImportError:  # a square dilation by shifting, numpy only
        grown = bad.copy()
        for _ in range(FILL_MARGIN_PX):
            g = grown.copy()
            g[1:] |= grown[:-1]; g[:-1] |= grown[1:]; g[:, 1:] |= grown[:, :-1]; g[:, :-1] |= grown[:, 1:]
            grown = g
        bad = grown
    return ~bad


def metrics(out: np.ndarray, ref: np.ndarray, disk: np.ndarray | None) -> dict:
    """max|Δ|/max (as validate/compare: over pixels finite in both, divided by max|ref|), NaN-mask
    disagreement, and the flux ratio Σ out / Σ ref over `disk` (away from fill values)."""
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if out.shape != ref.shape:
        return {"shape_ok": False, "shape": list(out.shape), "ref_shape": list(ref.shape)}
    fo, fr = np.isfinite(out), np.isfinite(ref)
    both = fo & fr
    scale = float(np.max(np.abs(ref[fr]))) if fr.any() else 0.0
    diff = np.abs(out[both] - ref[both])
    max_abs = float(diff.max()) if diff.size else 0.0
    m = {"shape_ok": True, "shape": list(out.shape), "max_abs": max_abs,
         "max_abs_over_max": max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else math.inf),
         "rel_l2": float(np.sqrt(np.sum(diff ** 2)) / np.sqrt(np.sum(ref[both] ** 2))) if both.any() else 0.0,
         "nan_mask_mismatch": int(np.count_nonzero(fo != fr)),
         "bitwise_fraction": float(np.mean(out.view(np.uint64) == ref.view(np.uint64)))}
    if disk is not None:
        sel = disk & both & away_from_fill(ref)
        sref = float(np.sum(ref[sel]))
        m["flux_ratio"] = float(np.sum(out[sel]) / sref) if sref != 0 else None
        m["flux_pixels"] = int(np.count_nonzero(sel))
        d = np.abs(out[sel] - ref[sel])
        m["max_abs_over_max_disk"] = float(d.max()) / scale if d.size and scale > 0 else None
    return m


def read_bound(tolerances_cpp: Path, stage: str, precision: str) -> tuple[float, str]:
    """The max|Δ|/max bound validate applies to a fast backend against the reference for `stage` and
    `precision`, read from validate/tolerances.cpp (its 'reference, "*", "<precision>"' row)."""
    text = Path(tolerances_cpp).read_text()
    pat = re.compile(r'\{\s*"%s"\s*,\s*"max_abs_over_max"\s*,\s*reference\s*,\s*"\*"\s*,\s*"%s"\s*,\s*([0-9.eE+-]+)\s*,\s*"([^"]*)"'
                     % (re.escape(stage), re.escape(precision)), re.S)
    m = pat.search(text)
    if not m:
        raise ValueError(f"{tolerances_cpp}: no max_abs_over_max bound for {stage}/reference/*/{precision}")
    return float(m.group(1)), m.group(2)


def verdict(m: dict | None, bound: float, error: str | None = None) -> str:
    if error:
        return "NOT RUN"
    if not m or not m.get("shape_ok"):
        return "FAILED (shape)"
    if m["nan_mask_mismatch"]:
        return "FAILED (NaN mask)"
    return "PASSED" if m["max_abs_over_max"] <= bound else "FAILED"


def aggregate(files: dict) -> tuple[dict | None, str, float | None]:
    """A row over several inputs from its per-input {"verdict", "metrics", "bound"}: the worst
    max|Δ|/max (all pixels, on disk), the flux ratio farthest from 1, NaN-mask disagreements summed;
    PASSED only when every input passed, else the first failing input's verdict and which inputs failed.
    The bound is the row's (one per precision, the same for every input)."""
    ms = [f["metrics"] for f in files.values() if f.get("metrics")]
    bounds = [f["bound"] for f in files.values() if f.get("bound") is not None]
    bad = [k for k, f in files.items() if f["verdict"] != "PASSED"]
    where = f"all {len(files)}" if len(bad) == len(files) else ", ".join(bad)
    v = f"{files[bad[0]]['verdict']} in {where}" if bad else "PASSED"
    if not ms:
        return None, v, None
    ok = [m for m in ms if m.get("shape_ok")]
    worst = {"shape_ok": len(ok) == len(ms), "nan_mask_mismatch": sum(m.get("nan_mask_mismatch", 0) for m in ok)}
    for key in ("max_abs_over_max", "max_abs_over_max_disk"):
        vals = [m[key] for m in ok if m.get(key) is not None]
        worst[key] = max(vals) if vals else None
    fluxes = [m["flux_ratio"] for m in ok if m.get("flux_ratio") is not None]
    worst["flux_ratio"] = max(fluxes, key=lambda f: abs(f - 1.0)) if fluxes else None
    return worst, v, bounds[0] if bounds else None


# ---------------------------------------------------------------------------------------------
# report

def _fmt(v, spec=".2e"):
    if v is None:
        return "–"
    if isinstance(v, float) and v == 0.0:
        return "0"
    return format(v, spec)


def frontier_svg(points: list[dict], title: str, width=760, height=460, floor=1e-17) -> str:
    """Log-log scatter: x = seconds per image, y = max|Δ|/max (0 drawn at `floor`), one labelled point
    each. points: {"label", "time_s", "err", "ok"}; points without a time or error are skipped."""
    pts = [p for p in points if p.get("time_s") and p.get("err") is not None and p["time_s"] > 0]
    ml, mr, mt, mb = 70, 200, 30, 50
    pw, ph = width - ml - mr, height - mt - mb
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="{ml}" y="18" font-size="13" font-weight="bold">{html.escape(title)}</text>',
           f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
    if not pts:
        out.append(f'<text x="{ml + 10}" y="{mt + 20}">no timed points</text></svg>')
        return "\n".join(out)
    xs = [math.log10(p["time_s"]) for p in pts]
    ys = [math.log10(max(p["err"], floor)) for p in pts]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys))
    x1 = max(x1, x0 + 1); y1 = max(y1, y0 + 1)

    def X(v):
        return ml + (v - x0) / (x1 - x0) * pw

    def Y(v):
        return mt + ph - (v - y0) / (y1 - y0) * ph

    for d in range(x0, x1 + 1):
        out.append(f'<line x1="{X(d):.1f}" y1="{mt}" x2="{X(d):.1f}" y2="{mt + ph}" stroke="#ddd"/>'
                   f'<text x="{X(d):.1f}" y="{mt + ph + 15}" text-anchor="middle">1e{d}</text>')
    ystep = max(1, (y1 - y0 + 7) // 8)
    for d in range(y0, y1 + 1, ystep):
        out.append(f'<line x1="{ml}" y1="{Y(d):.1f}" x2="{ml + pw}" y2="{Y(d):.1f}" stroke="#ddd"/>'
                   f'<text x="{ml - 5}" y="{Y(d) + 4:.1f}" text-anchor="end">1e{d}</text>')
    out.append(f'<text x="{ml + pw / 2}" y="{height - 10}" text-anchor="middle">seconds per image (log)</text>')
    out.append(f'<text transform="translate(16 {mt + ph / 2}) rotate(-90)" text-anchor="middle">'
               f'max|Δ|/max vs reference (log; 0 drawn at {floor:g})</text>')
    for i, (p, xv, yv) in enumerate(sorted(zip(pts, xs, ys), key=lambda t: (t[2], t[1]))):
        colour = "#1a7f37" if p.get("ok") else "#cf222e"
        cx, cy = X(xv), Y(yv)
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}"><title>{html.escape(p["label"])}: '
                   f'{p["time_s"]:.3g} s, {p["err"]:.3g}</title></circle>')
        out.append(f'<text x="{cx + 6:.1f}" y="{cy + 4 + (i % 3 - 1) * 9:.1f}" fill="{colour}">{html.escape(p["label"])}</text>')
    out.append(f'<text x="{ml + pw + 10}" y="{mt + 12}" fill="#1a7f37">● within validate\'s bound</text>')
    out.append(f'<text x="{ml + pw + 10}" y="{mt + 27}" fill="#cf222e">● outside it</text>')
    out.append("</svg>")
    return "\n".join(out)


def _table_rows(rows):
    for r in rows:
        m = r.get("metrics") or {}
        t = r.get("time_s")
        yield [r["label"], _fmt(t, ".3g") if t else "–", _fmt(m.get("max_abs_over_max")),
               _fmt(m.get("max_abs_over_max_disk")), _fmt(m.get("flux_ratio"), ".9f"),
               r["verdict"] + (f" (bound {r['bound']:g})" if r.get("bound") is not None else ""),
               r.get("target") or "–", r.get("fft") or "–", r.get("note", "")]


HEAD = ["peer", "s / image", "max|Δ|/max", "max|Δ|/max on disk", "flux ratio", "verdict", "target", "FFT", "notes"]


def _channel_cell(f: dict) -> str:
    m = f.get("metrics")
    if not m or not m.get("shape_ok"):
        return f["verdict"]
    flux = m.get("flux_ratio")
    cell = _fmt(m["max_abs_over_max"]) + (" · " + ("0" if flux == 1.0 else format(flux - 1.0, "+.1e")) if flux is not None else "")
    return cell + ("" if f["verdict"] == "PASSED" else " ✗")


def stage_tables(st: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """The stage's tables as (caption, head, rows): the peers; for a stage over several inputs
    ('channels'), also one cell per peer and input: max|Δ|/max · flux ratio − 1 (✗: not PASSED)."""
    tables = [("", HEAD, list(_table_rows(st["rows"])))]
    if st.get("channels") and st["rows"]:
        head = ["peer"] + [f"{c} Å" for c in st["channels"]]
        rows = [[r["label"]] + [_channel_cell(r.get("channels", {}).get(str(c), {"verdict": r["verdict"]}))
                                for c in st["channels"]] for r in st["rows"]]
        tables.append(("Per file: max|Δ|/max · (flux ratio − 1); ✗ not PASSED", head, rows))
    return tables


def _bound_line(st: dict) -> str:
    return (f"Verdict bound (validate/tolerances.cpp, max|Δ|/max vs the reference, f64): {st['bound']:g} — "
            f"{st['bound_reason']}" + (f"\n\nNot run: {st['skipped']}" if st.get("skipped") else ""))


def markdown(doc: dict) -> str:
    lines = [f"# {doc['title']}", "", doc["summary"], "", f"Regenerate: `{doc['command']}`", ""]
    for st in doc["stages"]:
        lines += [f"## {st['stage']}", "", st["description"], "", _bound_line(st), ""]
        for caption, head, rows in stage_tables(st):
            lines += ([caption, ""] if caption else []) + ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in rows] + [""]
    lines += ["## Machine", "", "```", json.dumps(doc["machine"], indent=1, sort_keys=True), "```", ""]
    return "\n".join(lines)


def _html_table(head, rows) -> str:
    e = html.escape
    return ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>" +
            "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>" for cells in rows) + "</table>")


def html_page(doc: dict) -> str:
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'>", f"<title>{e(doc['title'])}</title>",
             "<style>body{font-family:sans-serif;max-width:1400px;margin:1em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}.stage{display:flex;gap:1em;align-items:flex-start}"
             "pre{font-size:11px;background:#f6f6f6;padding:6px}</style></head><body>",
             f"<h1>{e(doc['title'])}</h1><p>{e(doc['summary'])}</p><p>Regenerate: <code>{e(doc['command'])}</code></p>"]
    for st in doc["stages"]:
        parts.append(f"<h2>{e(st['stage'])}</h2><p>{e(st['description'])}</p><p>Verdict bound: max|Δ|/max ≤ "
                     f"{st['bound']:g} ({e(st['bound_reason'])})</p>" +
                     (f"<p><b>Not run:</b> {e(st['skipped'])}</p>" if st.get("skipped") else "") + "<div class='stage'>")
        parts.append(frontier_svg([{"label": r["label"], "time_s": r.get("time_s"),
                                    "err": (r.get("metrics") or {}).get("max_abs_over_max"),
                                    "ok": r["verdict"] == "PASSED"} for r in st["rows"]],
                                  f"{st['stage']}: speed vs faithfulness"))
        tables = stage_tables(st)
        parts.append(_html_table(*tables[0][1:]) + "</div>")
        parts += [f"<p>{e(caption)}</p>" + _html_table(head, rows) for caption, head, rows in tables[1:]]
    parts.append(f"<h2>Machine</h2><pre>{e(json.dumps(doc['machine'], indent=1, sort_keys=True))}</pre></body></html>")
    return "\n".join(parts)


def write_report(doc: dict, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (("peers.json", json.dumps(doc, indent=1, sort_keys=True) + "\n"),
                       ("README.md", markdown(doc)), ("index.html", html_page(doc))):
        tmp = out_dir / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out_dir / name)
