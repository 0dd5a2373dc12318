#!/usr/bin/env bash
# `aiaccel validate --candidate` (external candidates, validate/candidate_backend.hpp) on the bundled real
# files: aiaccel's own register run as an external command PASSES (and refuses the cut-out as the
# reference does); planted wrong candidates (shifted, scaled, NaN-filled, crashing, hanging, exiting
# non-zero, writing nothing, writing garbage) are FAILED with their reason, in the same run, without
# touching the correct candidate's row; --candidate-bound judges by the user's bound; --junit writes
# JUnit XML that parses, one testcase per row; `aiaccel deconvolve` run as a deconvolve candidate reads
# its {input} as an AIA image (the case's header travels with it) and PASSES, on the synthetic cases and
# on a real one; bad --candidate options are usage errors (exit 2).
set -uo pipefail
exe="${AIACCEL_EXE:?}"
here="$(cd "$(dirname "$0")" && pwd)"
plant="$here/candidate_plant.py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export AIACCEL_CACHE="$work/cache"
fail=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
# row BACKEND CASE FIELD: a field of the row (verdict, notes joined by ' | ', bound, time_s, peak_rss_mib)
row() {
  python3 - "$out/rows.json" "$1" "$2" "$3" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
m = [r for r in rows if r["backend"] == sys.argv[2] and r["case"] == sys.argv[3]]
if len(m) != 1:
    print(f"<{len(m)} rows>")
elif sys.argv[4] == "bound":
    print(m[0]["tolerance"]["bound"])
elif sys.argv[4] == "notes":
    print(" | ".join(m[0].get("notes", [])))
else:
    print(m[0].get(sys.argv[4], ""))
PY
}
has() { [[ "$1" == *"$2"* ]] || { echo "  expected '$2' in: $1"; return 1; }; }
is() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'"; return 1; }; }

good="$exe register {input} -o {output} --order {order} --missing {missing}"

# 1. A correct candidate: aiaccel's own register as an external command, on real and synthetic cases.
out="$work/good"
"$exe" validate --out "$out" --precision f64 --candidate "good=$good" \
  --cases register-aia_171_level1,register-lowres_1600,register-aia_171_cutout,synthetic-identity-register > "$work/good.log" 2>&1
rc=$?
cat "$work/good.log"
check "correct candidate: exit 0" is "$rc" 0
for c in register-aia_171_level1 register-lowres_1600 register-aia_171_cutout synthetic-identity-register; do
  check "correct candidate PASSED on $c" is "$(row good $c verdict)" PASSED
done
check "cut-out: refused as the reference" has "$(row good register-aia_171_cutout notes)" "refused, as the reference"
check "row timed with the command's own memory" python3 -c "import json,sys; r=[r for r in json.load(open('$out/rows.json'))['rows'] if r['case']=='register-aia_171_level1'][0]; sys.exit(not (r['time_s']>0 and r['peak_rss_mib']>0))"
repro="$(python3 -c "import json; print(json.load(open('$out/rows.json'))['rows'][0]['repro'])")"
check "repro line brings the candidate back" has "$repro" "validate --candidate 'good:register="
check "repro line names the row's backend" has "$repro" "--backends good"

# 2. Planted wrong candidates next to the correct one and the built-in cpu backend, in one run.
out="$work/planted"
plant_cmd() { echo "$exe register {input} -o reg.fits && python3 $plant $1 reg.fits {output}"; }
"$exe" validate --out "$out" --precision f64 --backends cpu,good,shifted,scaled,nanfill,garbage,crash,hang,refuses,nothing \
  --cases register-aia_171_level1 --candidate-timeout 3 \
  --candidate "good=$good" \
  --candidate "shifted=$(plant_cmd shift)" \
  --candidate "scaled=$(plant_cmd scale)" \
  --candidate "nanfill=$(plant_cmd nan)" \
  --candidate "garbage=$(plant_cmd garbage)" \
  --candidate "crash=sh -c 'kill -SEGV \$\$' {input} {output}" \
  --candidate "hang=sleep 987; : {input} {output}" \
  --candidate "refuses=echo no thanks >&2; : {input} {output}; exit 3" \
  --candidate "nothing=true {input} {output}" \
  --junit "$out/junit.xml" > "$work/planted.log" 2>&1
rc=$?
cat "$work/planted.log"
check "planted: exit 1 (something failed)" is "$rc" 1
check "planted: the correct candidate still PASSED" is "$(row good register-aia_171_level1 verdict)" PASSED
check "planted: the cpu backend still PASSED" is "$(row cpu register-aia_171_level1 verdict)" PASSED
for b in shifted scaled nanfill garbage crash hang refuses nothing; do
  check "planted: $b FAILED" is "$(row $b register-aia_171_level1 verdict)" FAILED
done
check "shifted: out of bounds on max|Δ|/max" has "$(row shifted register-aia_171_level1 notes)" "out of bounds: max_abs_over_max"
check "scaled: out of bounds on max|Δ|/max" has "$(row scaled register-aia_171_level1 notes)" "out of bounds: max_abs_over_max"
check "NaN-filled: the NaN mask differs" has "$(row nanfill register-aia_171_level1 notes)" "nan_mismatch"
check "garbage: unreadable output" has "$(row garbage register-aia_171_level1 notes)" "candidate failed: wrote an unreadable {output}"
check "crash: killed by signal" has "$(row crash register-aia_171_level1 notes)" "candidate failed: crashed"
check "hang: timed out" has "$(row hang register-aia_171_level1 notes)" "candidate failed: timed out after 3 s"
check "refuses: a refusal the reference does not make" has "$(row refuses register-aia_171_level1 notes)" "refused: candidate refuses exited with status 3: no thanks"
check "nothing: no output" has "$(row nothing register-aia_171_level1 notes)" "candidate failed: exited with status 0 but wrote nothing"
check "planted: the repro line names only its own candidate" is "$(python3 -c "import json; print([r['repro'].count('--candidate ') for r in json.load(open('$out/rows.json'))['rows'] if r['backend'] == 'shifted'][0])")" 1
check "planted: the cpu row's repro line has no candidate" is "$(python3 -c "import json; print([r['repro'].count('--candidate') for r in json.load(open('$out/rows.json'))['rows'] if r['backend'] == 'cpu'][0])")" 0
check "hang: no process left behind" is "$(ps -eo args | grep -c '^sleep 987')" 0

# 3. JUnit XML: parses, one testcase per row, failures counted.
check "junit: one testcase per row, failures = FAILED rows" python3 - "$out/junit.xml" "$out/rows.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
rows = json.load(open(sys.argv[2]))["rows"]
cases = root.findall(".//testcase")
failed = sum(r["verdict"] in ("FAILED", "MISTRUSTED") for r in rows)
got = len([c for c in cases if c.find("failure") is not None])
suite = root.find("testsuite")
ok = len(cases) == len(rows) and got == failed == 8 and int(suite.get("failures")) == failed
ok = ok and any(c.get("classname") == "register.good.f64" and c.find("failure") is None for c in cases)
# the solar-disk metrics travel with every full-disk register row (docs/validation.md §2.1)
ok = ok and all("flux_ratio " in (c.findtext("system-out") or "") + (c.findtext("failure") or "")
                for c in cases if c.get("classname") in ("register.good.f64", "register.scaled.f64"))
print(f"junit: {len(cases)} testcases for {len(rows)} rows, {got} failures for {failed} FAILED rows")
sys.exit(0 if ok else 1)
PY

# 4. A bound the user names: the 1 % scaled candidate passes max|Δ|/max <= 0.05, the shifted one not 1e-9.
out="$work/bound"
"$exe" validate --out "$out" --precision f64 --cases register-aia_171_level1 --candidate-bound register=0.05 \
  --candidate "scaled=$(plant_cmd scale)" > "$work/bound.log" 2>&1
rc=$?
cat "$work/bound.log"
check "bound: scaled PASSED under register=0.05" is "$(row scaled register-aia_171_level1 verdict)" PASSED
check "bound: exit 0" is "$rc" 0
check "bound: the row names the user's bound" is "$(row scaled register-aia_171_level1 bound)" 0.05

# 5. Deconvolve candidates on the exact synthetic cases, where Richardson-Lucy is the identity (a delta
# PSF; a constant image): copying the input is the right answer there, and a scaled copy is not.
out="$work/deconv"
"$exe" validate --out "$out" --precision f64 --cases synthetic-delta-psf,synthetic-constant-deconvolve \
  --candidate "rl=cp {input} {output}; : {psf} {iterations}" \
  --candidate "aiaccel-rl=$exe deconvolve {input} -o {output} --psf {psf} -n {iterations}" \
  --candidate "rl-scaled=python3 $plant scale {input} {output}; : {psf} {iterations}" > "$work/deconv.log" 2>&1
rc=$?
cat "$work/deconv.log"
check "deconvolve candidates: exit 1" is "$rc" 1
check "deconvolve candidate PASSED (delta PSF)" is "$(row rl synthetic-delta-psf verdict)" PASSED
check "deconvolve candidate PASSED (constant)" is "$(row rl synthetic-constant-deconvolve verdict)" PASSED
check "aiaccel deconvolve as a candidate reads its AIA-like input: PASSED (delta PSF)" is "$(row aiaccel-rl synthetic-delta-psf verdict)" PASSED
check "aiaccel deconvolve as a candidate: PASSED (constant)" is "$(row aiaccel-rl synthetic-constant-deconvolve verdict)" PASSED
check "scaled deconvolve candidate FAILED" is "$(row rl-scaled synthetic-delta-psf verdict)" FAILED

# 5b. `aiaccel deconvolve` as a candidate on a real case: its {input} carries the case's real AIA header
# (the derived 4096² 1600 Å map; PSF of 171 Å, one iteration), and it passes the reference's bounds.
out="$work/deconv-real"
"$exe" validate --out "$out" --precision f64 --cases derived-1600x2-with-171psf-it1 --backends aiaccel-rl \
  --candidate "aiaccel-rl=$exe deconvolve {input} -o {output} --psf {psf} -n {iterations} --threads 2" > "$work/deconv-real.log" 2>&1
rc=$?
cat "$work/deconv-real.log"
check "aiaccel deconvolve on a real case: exit 0" is "$rc" 0
check "aiaccel deconvolve on a real case: PASSED" is "$(row aiaccel-rl derived-1600x2-with-171psf-it1 verdict)" PASSED

# 6. Usage errors: exit 2, one line naming the problem.
"$exe" validate --candidate "bad name=x {input} {output}" > "$work/u1" 2>&1; check "bad name: exit 2" is "$?" 2
"$exe" validate --candidate "x=cat {input}" > "$work/u2" 2>&1; check "no {output}: exit 2" is "$?" 2
check "no {output}: says so" has "$(cat "$work/u2")" "has no {output}"
"$exe" validate --candidate "x={input} {output}" --candidate-bound register=abc > "$work/u3" 2>&1; check "bad bound: exit 2" is "$?" 2
"$exe" validate --candidate "cpu={input} {output}" > "$work/u4" 2>&1; check "built-in name: exit 2" is "$?" 2

exit $fail
