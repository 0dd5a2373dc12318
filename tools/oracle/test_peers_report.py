"""Unit test of tools/peers' report code: peers_report.py (metrics with planted errors, bound parsing, chart,
per-file aggregation), peers_synoptic.py (per-file judging, the skip) and peers_driver.py (CLI labels)."""

import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers_driver as pd  # noqa: E402
import peers_report as pr  # noqa: E402
import peers_synoptic as ps  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


class PeersReportTest(unittest.TestCase):
    def setUp(self):
        y, x = np.mgrid[:64, :64]
        self.ref = 100.0 + x + y  # positive, max 226
        self.hdr = {"CDELT1": 1.0, "CDELT2": 1.0, "CRPIX1": 32.5, "CRPIX2": 32.5, "RSUN_OBS": 20.0}
        self.disk = pr.disk_mask(self.ref.shape, self.hdr)

    def test_identical(self):
        m = pr.metrics(self.ref.copy(), self.ref, self.disk)
        self.assertEqual(m["max_abs_over_max"], 0.0)
        self.assertEqual(m["flux_ratio"], 1.0)
        self.assertEqual(m["bitwise_fraction"], 1.0)
        self.assertEqual(pr.verdict(m, 2e-7), "PASSED")

    def test_planted_pixel_and_scale(self):
        out = self.ref.copy()
        out[10, 10] += 2.26  # 1e-2 of max
        m = pr.metrics(out, self.ref, self.disk)
        self.assertAlmostEqual(m["max_abs_over_max"], 1e-2, places=12)
        self.assertEqual(pr.verdict(m, 2e-7), "FAILED")
        m = pr.metrics(self.ref * 1.01, self.ref, self.disk)
        self.assertAlmostEqual(m["flux_ratio"], 1.01, places=12)

    def test_nan_mask_and_shape(self):
        out = self.ref.copy()
        out[5, 5] = np.nan
        m = pr.metrics(out, self.ref, self.disk)
        self.assertEqual(m["nan_mask_mismatch"], 1)
        self.assertEqual(pr.verdict(m, 1.0), "FAILED (NaN mask)")
        self.assertEqual(pr.verdict(pr.metrics(out[:-1], self.ref, None), 1.0), "FAILED (shape)")
        self.assertEqual(pr.verdict(None, 1.0, error="no venv"), "NOT RUN")

    def test_fill_excluded_from_flux(self):
        ref = self.ref.copy()
        ref[:20] = -32768.0
        out = ref.copy()
        out[20:24] += 5000.0  # ringing next to the fill cliff: not counted as flux
        m = pr.metrics(out, ref, self.disk)
        self.assertEqual(m["flux_ratio"], 1.0)
        self.assertEqual(m["max_abs_over_max_disk"], 0.0)
        self.assertGreater(m["max_abs_over_max"], 0.1)

    def test_disk_mask(self):
        self.assertTrue(self.disk[32, 32])
        self.assertFalse(self.disk[0, 0])
        self.assertAlmostEqual(self.disk.sum() / (np.pi * 400), 1.0, delta=0.05)

    def test_bounds_from_tolerances(self):
        b, reason = pr.read_bound(REPO / "validate" / "tolerances.cpp", "register", "f64")
        self.assertGreater(b, 0)
        self.assertTrue(reason)
        pr.read_bound(REPO / "validate" / "tolerances.cpp", "deconvolve", "f32")
        with self.assertRaises(ValueError):
            pr.read_bound(REPO / "validate" / "tolerances.cpp", "nosuchstage", "f64")

    def test_chart_and_report(self):
        pts = [{"label": "a<b", "time_s": 0.5, "err": 0.0, "ok": True},
               {"label": "slow", "time_s": 30.0, "err": 3e-3, "ok": False},
               {"label": "not run", "time_s": None, "err": None, "ok": False}]
        svg = pr.frontier_svg(pts, "t")
        self.assertEqual(svg.count("<circle"), 2)
        self.assertIn("a&lt;b", svg)
        self.assertTrue(svg.startswith("<svg") and svg.endswith("</svg>"))
        row = {"label": "x", "time_s": 1.0, "verdict": "PASSED", "metrics": pr.metrics(self.ref, self.ref, self.disk)}
        doc = {"title": "T", "summary": "S", "command": "tools/peers", "machine": {"cpu_model": "c"},
               "stages": [{"stage": "register", "description": "d", "bound": 2e-7, "bound_reason": "r", "rows": [row]}]}
        with tempfile.TemporaryDirectory() as d:
            pr.write_report(doc, Path(d))
            self.assertIn("| x | 1 | 0 | 0 | 1.000000000 | PASSED |", (Path(d) / "README.md").read_text())
            self.assertIn("<svg", (Path(d) / "index.html").read_text())
            self.assertTrue((Path(d) / "peers.json").exists())

    def test_aggregate_over_files(self):
        ok = pr.metrics(self.ref, self.ref, self.disk)
        off = pr.metrics(self.ref * (1 + 1e-3), self.ref, self.disk)  # planted: one file scaled by 1e-3
        low = pr.metrics(self.ref * (1 - 1e-6), self.ref, self.disk)
        files = {"94": {"verdict": "PASSED", "metrics": ok, "bound": 2e-7},
                 "131": {"verdict": pr.verdict(off, 2e-7), "metrics": off, "bound": 2e-7},
                 "171": {"verdict": pr.verdict(low, 2e-7), "metrics": low, "bound": 2e-7}}
        m, v, bound = pr.aggregate(files)
        self.assertEqual(v, "FAILED in 131, 171")
        self.assertEqual(bound, 2e-7)
        self.assertAlmostEqual(m["max_abs_over_max"], 1e-3, places=12)  # the worst file
        self.assertAlmostEqual(m["flux_ratio"], 1 + 1e-3, places=12)  # the ratio farthest from 1
        m, v, _ = pr.aggregate({"94": files["94"], "171": dict(files["94"])})
        self.assertEqual((v, m["max_abs_over_max"], m["flux_ratio"]), ("PASSED", 0.0, 1.0))
        nan = self.ref.copy()
        nan[3, 3] = np.nan  # planted: one file with a NaN the reference lacks
        mn = pr.metrics(nan, self.ref, self.disk)
        m, v, _ = pr.aggregate({"94": files["94"], "193": {"verdict": pr.verdict(mn, 2e-7), "metrics": mn, "bound": 2e-7}})
        self.assertEqual((v, m["nan_mask_mismatch"]), ("FAILED (NaN mask) in 193", 1))
        m, v, bound = pr.aggregate({c: {"verdict": "NOT RUN"} for c in ("94", "131")})
        self.assertEqual((m, v, bound), (None, "NOT RUN in all 2", None))

    def test_synoptic_judged_file_by_file(self):
        """Planted errors in one file of one peer: that peer FAILED naming the file, the others PASSED."""
        def ref_of(i):
            return self.ref * (i + 1)

        with tempfile.TemporaryDirectory() as d:
            def files(tag, plant=None):
                out = []
                for i, _ in enumerate(ps.CHANNELS):
                    a = ref_of(i).copy()
                    if plant is not None and i == 2:
                        a = plant(a)
                    np.save(Path(d) / f"{tag}-{i}.npy", a)
                    out.append({"time_s": 1.0 + i, "output": str(Path(d) / f"{tag}-{i}.npy")})
                return out

            def shifted(a):
                return np.roll(a, 1, axis=1)

            rows = [{"label": lab, "precision": "f64", "error": None, "files": files(lab, plant)}
                    for lab, plant in (("ref", None), ("same", None), ("shifted", shifted))]
            rows.append({"label": "crashed", "precision": "f64", "error": "RuntimeError: exit 1", "note": ""})
            real = pd.read_reference
            pd.read_reference = lambda path, stage: (np.load(path), self.hdr)
            try:
                ps.judge_files(rows)
            finally:
                pd.read_reference = real
        self.assertEqual([r["verdict"] for r in rows], ["PASSED", "PASSED", "FAILED in 171", "NOT RUN in all 6"])
        self.assertEqual(rows[2]["channels"]["94"]["verdict"], "PASSED")
        self.assertGreater(rows[2]["metrics"]["max_abs_over_max"], 1e-3)
        self.assertNotIn("files", rows[0])
        st = {"stage": ps.STAGE, "description": "d", "bound": 2e-7, "bound_reason": "r", "rows": rows,
              "channels": list(ps.CHANNELS)}
        tables = pr.stage_tables(st)
        self.assertEqual(len(tables), 2)
        self.assertEqual(tables[1][1], ["peer"] + [f"{c} Å" for c in ps.CHANNELS])
        self.assertTrue(tables[1][2][2][3].endswith(" ✗"))  # shifted peer, 171 Å
        self.assertEqual(tables[1][2][1][1], "0 · 0")
        self.assertEqual(tables[1][2][3][1], "NOT RUN")

    def test_synoptic_absent_is_a_skip(self):
        with tempfile.TemporaryDirectory() as d:
            peers = pd.Peers(Path("/nonexistent/aiaccel"), Path(d), {}, 1, 10.0)
            st = ps.synoptic_stage(peers, Path(d) / "no-synoptic")
            self.assertEqual(st["rows"], [])
            self.assertIn("6 of the six files absent", st["skipped"])
            doc = {"title": "T", "summary": "S", "command": "tools/peers", "machine": {}, "stages": [st]}
            pr.write_report(doc, Path(d) / "out")
            self.assertIn("Not run: ", (Path(d) / "out" / "README.md").read_text())

    def test_cli_labels(self):
        self.assertEqual(pd.cli_labels("x\nregister: wrote o.fits (1x1) in 1 s (...) · target AVX3\n"), {"target": "AVX3"})
        self.assertEqual(pd.cli_labels("deconvolve: wrote o in 2 s (backend cpu f64) · fft fftw 3.3.10 (ESTIMATE plans)"),
                         {"fft": "fftw 3.3.10 (ESTIMATE plans)"})
        self.assertEqual(pd.cli_labels("older binary: no label"), {})


if __name__ == "__main__":
    unittest.main()
