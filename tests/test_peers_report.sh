#!/usr/bin/env bash
# Unit test of tools/peers' report code (tools/oracle/peers_report.py: metrics, bounds, chart; the synoptic
# section's per-file judging, peers_synoptic.py; the CLI's target/FFT labels, peers_driver.py) with any project
# venv that has numpy: .oracle/venv-peers, else .venv. SKIPPED (77) when neither is there.
set -euo pipefail
root="${AIACCEL_SOURCE_ROOT:?}"
for py in "$root/.oracle/venv-peers/bin/python" "$root/.venv/bin/python"; do
  if [ -x "$py" ] && "$py" -c "import numpy" 2>/dev/null; then
    exec "$py" -B "$root/tools/oracle/test_peers_report.py"
  fi
done
echo "SKIP: no venv with numpy (tools/oracle/setup peers or tools/python-setup)"
exit 77
