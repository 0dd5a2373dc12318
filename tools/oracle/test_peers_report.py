"""Unit test of tools/oracle/peers_report.py (metrics with planted errors, bound parsing, chart)."""

import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers_report as pr  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
