#!/usr/bin/env bash
# tools/ci-summary (the end of .ci/run): the last line is the bare `N passed, N failed, N skipped`,
# adding meson's testlog.json and validate's rows.json; a failed test is printed with its log, a
# failed row with its repro; a missing file counts as a failure; exit code 1 when anything failed.
set -euo pipefail
summary="${AIACCEL_SOURCE_ROOT:?}/tools/ci-summary"
T="$(mktemp -d "${TMPDIR:-/tmp}/aiaccel-ci-summary.XXXXXX")"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$T/b/meson-logs"
tests() { printf '%s\n' "$@" >"$T/b/meson-logs/testlog.json"; }
rows() { echo "{\"rows\": [$1]}" >"$T/rows.json"; }
run() { rc=0; python3 "$summary" "$T/b" "$T/rows.json" >"$T/out" 2>&1 || rc=$?; last="$(tail -n 1 "$T/out")"; }

tests '{"name": "core", "result": "OK"}' '{"name": "cuda", "result": "SKIP"}' '{"name": "report", "result": "OK"}'
rows '{"verdict": "PASSED"}, {"verdict": "PASSED"}, {"verdict": "SKIPPED"}'
run
[ "$rc" -eq 0 ] || fail "all passed: exit code $rc"; [ "$last" = "4 passed, 0 failed, 2 skipped" ] || fail "all passed: last line '$last'"

tests '{"name": "core", "result": "FAIL", "returncode": 1, "stdout": "[  FAILED  ] Fits.ReadsBack\nexpected 3"}' '{"name": "report", "result": "OK"}'
rows '{"verdict": "FAILED", "stage": "psf", "backend": "cpu", "precision": "f32", "case": "psf-171", "repro": "aiaccel validate --cases psf-171", "metrics": {"max_abs_over_max": 2e-5}, "tolerance": {"metric": "max_abs_over_max", "bound": 1e-6}}, {"verdict": "MISTRUSTED"}, {"verdict": "PASSED"}'
run
[ "$rc" -eq 1 ] || fail "failures: exit code $rc"; [ "$last" = "2 passed, 3 failed, 0 skipped" ] || fail "failures: last line '$last'"
grep -q "meson test core: FAIL" "$T/out" && grep -q "Fits.ReadsBack" "$T/out" || fail "failed test and its log not printed: $(cat "$T/out")"
grep -q "repro: aiaccel validate --cases psf-171" "$T/out" || fail "failed row's repro not printed: $(cat "$T/out")"

rm "$T/b/meson-logs/testlog.json" "$T/rows.json"
run
[ "$rc" -eq 1 ] || fail "nothing ran: exit code $rc"; [ "$last" = "0 passed, 2 failed, 0 skipped" ] || fail "nothing ran: last line '$last'"
echo "tools/ci-summary: OK"
