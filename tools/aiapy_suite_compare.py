"""Compares the stock and substituted runs of aiapy's test suite (tools/aiapy-suite).

    python tools/aiapy_suite_compare.py VERSION RUNS_DIR

RUNS_DIR holds stock.xml and aiaccel.xml (pytest --junitxml) and calls.json (the plugin's list of test
functions that called aiaccel). Prints passed/skipped/failed per run and the calling tests; exit 1 when a
test that passed stock did not pass substituted, or when the substituted run called aiaccel nowhere.
"""
import json
import pathlib
import sys
import xml.etree.ElementTree as ET


def short(nodeid):
    """A test id from aiapy's package on: aiapy/psf/tests/test_psf.py::test_smoke_psf."""
    i = nodeid.find("aiapy/")
    return nodeid[i:] if i >= 0 else nodeid


def outcomes(path, reasons=None):
    """{test id: 'passed' | 'skipped' | 'failed' | 'error'} from a JUnit XML file; counts skip messages
    into `reasons`."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        tid = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        if reasons is not None and "skipped" in kinds:
            msg = case.find("skipped").get("message", "")
            reasons[msg] = reasons.get(msg, 0) + 1
        if "error" in kinds:
            out[tid] = "error" if out.get(tid, "passed") == "passed" else out[tid]
        elif "failure" in kinds:
            out[tid] = "failed"
        elif "skipped" in kinds:
            out.setdefault(tid, "skipped")
        else:
            out.setdefault(tid, "passed")
    return out


def main():
    version, runs = sys.argv[1], pathlib.Path(sys.argv[2])
    reasons = {}
    stock, subst = outcomes(runs / "stock.xml", reasons), outcomes(runs / "aiaccel.xml")
    calls = json.loads((runs / "calls.json").read_text()) if (runs / "calls.json").is_file() else {}

    def counts(o):
        return ", ".join(f"{sum(v == k for v in o.values())} {k}" for k in ("passed", "skipped", "failed", "error"))

    print(f"aiapy {version}: stock      {counts(stock)}")
    print(f"aiapy {version}: substituted {counts(subst)}")
    print(f"aiapy {version}: stock skips by reason:")
    for msg, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  {n:3d}  {msg[:120]}")
    print(f"aiapy {version}: test functions that called aiaccel ({len(calls)}):")
    for nodeid in sorted(calls, key=short):
        print(f"  {short(nodeid)}: {', '.join(calls[nodeid])}")
    lost = sorted(t for t, v in stock.items() if v == "passed" and subst.get(t) != "passed")
    for t in lost:
        print(f"aiapy {version}: REGRESSION {t}: stock passed, substituted {subst.get(t, 'missing')}")
    if not calls:
        print(f"aiapy {version}: no test called aiaccel (the plugin substituted nothing)")
    ok = not lost and bool(calls)
    print(f"aiapy {version}: {'OK' if ok else 'FAILED'}: every test that passes stock passes substituted"
          if ok else f"aiapy {version}: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
