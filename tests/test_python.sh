#!/usr/bin/env bash
# The Python package's pytest suite (python/tests) in the project venv .venv, which tools/test makes
# with tools/python-setup before meson test runs. SKIPPED (77) when .venv is not there.
set -euo pipefail
root="${AIACCEL_SOURCE_ROOT:?}"
if [ ! -x "$root/.venv/bin/python" ] || ! "$root/.venv/bin/python" -c "import aiaccel" 2>/dev/null; then
  echo "SKIP: no .venv with aiaccel installed (run tools/python-setup, or tools/test without AIACCEL_SKIP_PYTHON)"
  exit 77
fi
cd "$root"
exec .venv/bin/python -m pytest -q -p no:cacheprovider python/tests
