#!/usr/bin/env bash
# The acceptance test of `aiaccel prep` as a batch tool (issue #8), on a batch made from the real
# bundled files by prep_batch_maker (50 good level-1 copies with shifted DATE-OBS + 3 corrupt files):
#  1. a full run: 50 outputs that verify, exactly three clear failures, exit code 1, manifest.json and
#     failures.txt complete;
#  2. kill -9 midway + --resume: no visible partial output, no image processed twice (the resumed run
#     skips exactly the outputs the killed one finished), the same output content as run 1;
#  3. --dry-run writes nothing and predicts the three failures from the headers;
#  4. --shard I/N + merge-manifests: full coverage; gaps, duplicates and other batches are refused.
# Needs AIACCEL_EXE, AIACCEL_TESTDATA, PREP_BATCH_MAKER (set by tests/meson.build).
set -euo pipefail
exe="${AIACCEL_EXE:?}"; data="${AIACCEL_TESTDATA:?}/aia"; maker="${PREP_BATCH_MAKER:?}"
T="$(mktemp -d "${TMPDIR:-/tmp}/aiaccel-prep-batch.XXXXXX")"
cleanup() { [ -n "${bg:-}" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

"$maker" "$data" "$T/in" --count 50 --full-disk-2048 4 >/dev/null
n_in=$(ls "$T/in" | wc -l); [ "$n_in" -eq 53 ] || fail "batch maker wrote $n_in files, expected 53"
echo "batch: 50 good copies (4 of 2048², 46 of 128²) + 3 corrupt in $T/in"

# 1. uninterrupted run ------------------------------------------------------------------------
rc=0; "$exe" prep "$T/in" -o "$T/a" --level 1.5 --backend reference --jobs 2 2>"$T/a.log" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/a.log"; fail "exit code $rc, expected 1 (three bad inputs)"; }
m="$T/a/manifest.json"
[ "$(json "$m" "m['counts']['ok']")" -eq 50 ] || fail "run 1: $(json "$m" "m['counts']") (expected 50 ok)"
[ "$(json "$m" "m['counts']['failed']")" -eq 3 ] || fail "run 1: $(json "$m" "m['counts']") (expected 3 failed)"
[ "$(json "$m" "len(m['entries'])")" -eq 53 ] || fail "manifest does not list every input"
[ "$(wc -l <"$T/a/failures.txt")" -eq 3 ] || fail "failures.txt should have 3 lines"
grep -q "corrupt_truncated.fits.*truncated" "$T/a/failures.txt" || fail "truncated file not reported as truncated"
grep -q "corrupt_not_aia.fits.*not an AIA image" "$T/a/failures.txt" || fail "HMI file not reported as not AIA"
grep -q "corrupt_no_date_obs.fits.*DATE-OBS" "$T/a/failures.txt" || fail "missing DATE-OBS not reported"
[ "$(grep -c 'prep: FAILED' "$T/a.log")" -eq 3 ] || fail "expected three 'prep: FAILED' lines on stderr"
[ "$(ls "$T/a"/aia_lev1.5_*.fits | wc -l)" -eq 50 ] || fail "expected 50 outputs"
json "$m" "all(e.get('output_content_sha256') and e.get('input_sha256') for e in m['entries'] if e['status']=='ok')" | grep -q True \
  || fail "ok entries lack checksums"
echo "run 1: 50 ok, 3 failed (truncated, not AIA, no DATE-OBS), exit 1"

# 2. kill -9 midway, then --resume --------------------------------------------------------------
"$exe" prep "$T/in" -o "$T/b" --level 1.5 --backend reference --jobs 2 2>"$T/b1.log" & bg=$!
for _ in $(seq 600); do
  n=$(ls "$T/b" 2>/dev/null | grep -c '^aia_lev1.5_' || true)
  [ "$n" -ge 12 ] && break
  kill -0 "$bg" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$bg" 2>/dev/null || fail "the run finished before it could be killed"
wait "$bg" 2>/dev/null || true; bg=""
done_before=$(ls "$T/b" | grep -c '^aia_lev1.5_' || true)
[ "$done_before" -lt 50 ] || fail "nothing left to resume ($done_before outputs)"
echo "killed (kill -9) with $done_before outputs written; temporaries: $(ls -A "$T/b" | grep -c '\.tmp-' || true)"
rc=0; "$exe" prep "$T/in" -o "$T/b" --level 1.5 --backend reference --jobs 2 --resume 2>"$T/b2.log" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/b2.log"; fail "resume: exit code $rc, expected 1"; }
m2="$T/b/manifest.json"
[ "$(json "$m2" "m['counts']['skipped']")" -eq "$done_before" ] || fail "resume skipped $(json "$m2" "m['counts']['skipped']"), expected $done_before (reprocessed or lost an image)"
[ "$(json "$m2" "m['counts']['ok']")" -eq $((50 - done_before)) ] || fail "resume processed $(json "$m2" "m['counts']['ok']"), expected $((50 - done_before))"
[ "$(json "$m2" "m['counts']['failed']")" -eq 3 ] || fail "resume: expected the same 3 failures"
[ "$(ls -A "$T/b" | grep -c '\.tmp-' || true)" -eq 0 ] || fail "temporary files left after resume: $(ls -A "$T/b" | grep '\.tmp-')"
python3 - "$T/a/manifest.json" "$T/b/manifest.json" <<'PY' || fail "resumed outputs differ from the uninterrupted run"
import json, os, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
key = lambda m: {os.path.basename(e["output"]): (e["output_content_sha256"], e["output_datasum"]) for e in m["entries"] if e["status"] != "failed"}
ka, kb = key(a), key(b)
bad = [k for k in ka if ka.get(k) != kb.get(k)]
for k in bad:  # both manifests' entries for the output, to tell a skipped from a reprocessed one
    for name, m in (("uninterrupted", a), ("resumed", b)):
        print(name, [{f: e.get(f) for f in ("status", "reason", "warnings", "output_content_sha256", "output_datasum")} for e in m["entries"] if os.path.basename(e.get("output", "")) == k], file=sys.stderr)
assert len(ka) == 50 and not bad, bad
PY
echo "resume: skipped $done_before verified outputs, processed $((50 - done_before)); all 50 outputs identical (content sha256 + DATASUM) to run 1"

# 3. --dry-run ---------------------------------------------------------------------------------
rc=0; "$exe" prep "$T/in" -o "$T/dry" --level 1.5 --dry-run >"$T/dry.txt" 2>"$T/dry.log" || rc=$?
[ "$rc" -eq 1 ] || fail "dry-run exit $rc, expected 1"
[ ! -e "$T/dry" ] || fail "dry-run created the output folder"
[ "$(wc -l <"$T/dry.txt")" -eq 53 ] && [ "$(grep -c '\[FAIL' "$T/dry.txt")" -eq 3 ] || fail "dry-run listing: $(cat "$T/dry.txt")"
rc=0; "$exe" prep "$T/in" -o "$T/a" --level 1.5 --resume --dry-run >"$T/dry2.txt" 2>/dev/null || rc=$?
[ "$(grep -c '\[skip' "$T/dry2.txt")" -eq 50 ] || fail "dry-run --resume should skip 50"
echo "dry-run: 53 lines, 3 predicted failures, nothing written"

# 4. shards + merge-manifests (exposure only: cheap) ----------------------------------------------
for i in 0 1 2; do
  "$exe" prep "$T/in" -o "$T/s" --steps exposure --backend reference --jobs 1 --shard "$i/3" 2>/dev/null && fail "shard $i/3 should exit 1" || true
done
[ "$(ls "$T/s"/manifest.shard-*-of-3.json | wc -l)" -eq 3 ] || fail "expected three shard manifests"
"$exe" merge-manifests "$T"/s/manifest.shard-*-of-3.json -o "$T/s/manifest.json" >"$T/merge.txt" && fail "merge with failed inputs should exit 1" || true
grep -q "0 gap(s), 0 duplicate(s), 0 mismatch(es); 50 ok, 0 skipped, 3 failed" "$T/merge.txt" || fail "merge: $(cat "$T/merge.txt")"
"$exe" merge-manifests "$T"/s/manifest.shard-*-of-3.json --allow-failed >/dev/null || fail "complete coverage with --allow-failed should exit 0"
[ "$(json "$T/s/manifest.json" "len(m['entries'])")" -eq 53 ] || fail "merged manifest incomplete"
"$exe" merge-manifests "$T/s/manifest.shard-0-of-3.json" "$T/s/manifest.shard-1-of-3.json" --allow-failed 2>"$T/gap.log" >/dev/null && fail "a missing shard must fail" || true
grep -q "GAP input #2 of 53 is in no manifest (belongs to shard 2/3)" "$T/gap.log" || fail "gap not reported: $(head -3 "$T/gap.log")"
"$exe" merge-manifests "$T"/s/manifest.shard-*-of-3.json "$T/s/manifest.shard-0-of-3.json" --allow-failed 2>"$T/dup.log" >/dev/null && fail "a duplicate must fail" || true
grep -q "DUPLICATE input #0" "$T/dup.log" || fail "duplicate not reported"
"$exe" merge-manifests "$T"/s/manifest.shard-0-of-3.json "$T/a/manifest.json" --allow-failed 2>"$T/mis.log" >/dev/null && fail "manifests of different runs must fail" || true
grep -q "MISMATCH" "$T/mis.log" || fail "mismatch not reported"
echo "shards: 3 shards cover 53 inputs once; gaps, duplicates and mismatched manifests are refused"
echo "PASS"
