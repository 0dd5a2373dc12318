#!/usr/bin/env bash
# The per-image time budget of `aiaccel prep` (issue #16), --output-dtype float32, and the DERIVED
# 4096x4096 int16 RICE level-1 input of prep_batch_maker --derived-int16:
#  1. the derived file is stored as level-1 files are (ZBITPIX 16, RICE_1, BLANK -32768) and says
#     it is derived (DERIVED keyword, HISTORY, COMMENT);
#  2. a cpu run over it and two copies of the real 2048² file: every entry has timings_s (the steps
#     of kTimedSteps that ran, none negative, their sum within the entry's seconds) and the manifest a
#     time_budget_s in pipeline order ending with 'queued';
#  3. --output-dtype float32: BITPIX -32 outputs with the 'float32 output' HISTORY line; default-dtype
#     outputs are float64 and --resume with the default settings replaces the float32 ones, never skips.
# Needs AIACCEL_EXE, AIACCEL_TESTDATA, PREP_BATCH_MAKER (set by tests/meson.build).
set -euo pipefail
exe="${AIACCEL_EXE:?}"; data="${AIACCEL_TESTDATA:?}/aia"; maker="${PREP_BATCH_MAKER:?}"
T="$(mktemp -d "${TMPDIR:-/tmp}/aiaccel-prep-budget.XXXXXX")"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
# The header cards at the start of a FITS file (its first HDUs' headers), one per line (read whole, so
# that grep -q ending early cannot break a pipe under pipefail).
hdr() { local t; t=$(head -c 40000 "$1" | fold -w 80 | tr -d '\000'); printf '%s\n' "$t"; }

"$maker" "$data" "$T/in" --count 2 --full-disk-2048 2 --no-corrupt --derived-int16 1 >/dev/null
d="$T/in/derived1600_int16_000.fits"
[ -f "$d" ] || fail "prep_batch_maker --derived-int16 wrote no file"
h=$(hdr "$d")
for want in "ZBITPIX =                   16" "ZCMPTYPE= 'RICE_1" "ZNAXIS1 =                 4096" "BLANK   =               -32768" "DERIVED =" \
            "HISTORY DERIVED by aiaccel: 2x2" "HISTORY DERIVED by aiaccel: stored as int16" "COMMENT aiaccel timing input"; do
  grep -aqF "$want" <<<"$h" || fail "derived input lacks '$want'"
done
# astropy reads int16 with BLANK as float32, the missing pixels as NaN (as for a real level-1 file).
"$exe" info "$d" >"$T/info.txt" 2>&1 || { cat "$T/info.txt"; fail "aiaccel info on the derived input"; }
grep -q "4096 x 4096 px (cols x rows), float32" "$T/info.txt" || fail "derived input does not read as 4096² float32: $(cat "$T/info.txt")"
grep -qE "NaN [1-9]" "$T/info.txt" || fail "derived input's BLANK pixels do not read as NaN"
echo "derived input: 4096x4096 int16 RICE_1 with BLANK, labelled DERIVED"

# 2. the time budget ---------------------------------------------------------------------------
"$exe" prep "$T/in" -o "$T/a" --level 1.5 --backend cpu --jobs 2 2>"$T/a.log" || { cat "$T/a.log"; fail "prep failed"; }
m="$T/a/manifest.json"
[ "$(json "$m" "m['counts']['ok']")" -eq 3 ] || fail "expected 3 ok: $(json "$m" "m['counts']")"
python3 - "$m" <<'PY' || fail "time budget"
import json, sys
m = json.load(open(sys.argv[1]))
order = ["header", "precheck", "checksum", "decode", "input_sha256", "backend_wait", "pointing", "psf", "deconvolve", "register",
         "degradation", "exposure", "write", "output_checksum", "rename", "output_identity"]
must = {"header", "precheck", "checksum", "decode", "input_sha256", "register", "exposure", "write", "output_checksum", "rename", "output_identity"}
for e in m["entries"]:
    t = e["timings_s"]
    assert must <= set(t) <= set(order), f"{e['input']}: steps {sorted(t)}"
    assert min(t.values()) >= 0, t
    assert sum(t.values()) <= e["seconds"] + 0.01, f"{e['input']}: steps sum to {sum(t.values())} > {e['seconds']} s"
budget = [k for k, _ in m["time_budget_s"]]
assert budget[-1] == "queued" and budget[:-1] == [k for k in order if k in budget], budget
print("budget:", ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in m["time_budget_s"]))
PY

# 3. --output-dtype float32 --------------------------------------------------------------------
"$exe" prep "$T/in" -o "$T/f" --level 1.5 --backend cpu --jobs 2 --output-dtype float32 2>"$T/f.log" || { cat "$T/f.log"; fail "float32 prep failed"; }
for o in "$T/f"/aia_lev1.5_*.fits; do
  h=$(hdr "$o")
  grep -aqE "^BITPIX  = +-32 " <<<"$h" || fail "$o: not float32"
  hist=$(grep -a "^HISTORY " <<<"$h" | cut -c9-80 | tr -d '\n')
  grep -q "float32 output" <<<"$hist" || fail "$o: HISTORY does not say float32 output"
done
for o in "$T/a"/aia_lev1.5_*.fits; do
  h=$(hdr "$o")
  grep -aqE "^BITPIX  = +-64 " <<<"$h" || fail "$o: the default output is not float64"
done
grep -q -- "--output-dtype float32" <<<"$(json "$T/f/manifest.json" "m['command']")" || fail "the manifest's command lacks --output-dtype float32"
"$exe" prep "$T/in" -o "$T/f" --level 1.5 --backend cpu --jobs 2 --resume 2>"$T/r.log" || { cat "$T/r.log"; fail "resume failed"; }
[ "$(json "$T/f/manifest.json" "m['counts']['skipped']")" -eq 0 ] || fail "--resume took float32 outputs for float64 ones"
echo "float32 outputs: BITPIX -32, labelled; --resume with the default dtype replaces them"
