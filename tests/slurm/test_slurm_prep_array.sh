#!/usr/bin/env bash
# Slurm integration test (issue #8): starts a single-node Slurm cluster from Debian's packages
# (tests/slurm/cluster.sh: munged, slurmctld, slurmd; no cgroups, proctrack/linuxproc), submits
# tools/slurm/prep-array.sbatch as a 3-task job array over the test batch (50 good + 3 corrupt files,
# tests/test_prep_batch_maker.cpp), waits for it, merges the shard manifests and checks that every
# input was handled exactly once: 50 ok, the 3 corrupt ones failed, no gap, no duplicate.
# Exit 77 (meson: SKIPPED) with the reason only when the daemons cannot start here.
set -euo pipefail
exe="${AIACCEL_EXE:?}"; data="${AIACCEL_TESTDATA:?}/aia"; maker="${PREP_BATCH_MAKER:?}"; src="${AIACCEL_SOURCE_ROOT:?}"
T="$(mktemp -d /tmp/aiaccel-slurm.XXXXXX)"
source "$src/tests/slurm/cluster.sh"
cleanup() {
  slurm_sandbox_stop
  if [ -n "${KEEP_SLURM_SANDBOX:-}" ]; then echo "sandbox kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/out/aiaccel-prep-*.log "$T/cluster/log/slurmctld.log" "$T/cluster/log/slurmd.log"; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

"$maker" "$data" "$T/in" --count 50 --full-disk-2048 2 >/dev/null
if ! slurm_sandbox_start "$T/cluster"; then
  echo "SKIP: cannot start a Slurm sandbox here: $slurm_sandbox_why"
  exit 77
fi
echo "slurm sandbox up: $(sinfo -h -N -o '%N %T %c CPUs')"
mkdir -p "$T/out"
export AIACCEL="$exe"
job=$(sbatch --parsable --array=0-2 --cpus-per-task=1 --chdir="$T/out" --output="$T/out/aiaccel-prep-%A_%a.log" \
      "$src/tools/slurm/prep-array.sbatch" "$T/out" "$T/in" -- --level 1.5 --backend reference) \
  || fail "sbatch refused the job array"
echo "submitted job array $job (3 tasks)"
for _ in $(seq 480); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || fail "the job array did not finish within 240 s: $(squeue -j "$job")"
for i in 0 1 2; do
  log="$T/out/aiaccel-prep-${job}_$i.log"
  [ -f "$log" ] || fail "no log for task $i"
  grep -q "shard $i/3" "$log" || fail "task $i did not run shard $i/3"
done
ls "$T"/out/manifest.shard-*-of-3.json >/dev/null 2>&1 || fail "no shard manifests"
[ "$(ls "$T"/out/manifest.shard-*-of-3.json | wc -l)" -eq 3 ] || fail "expected 3 shard manifests: $(ls "$T/out")"
rc=0; "$exe" merge-manifests "$T"/out/manifest.shard-*-of-3.json -o "$T/out/manifest.json" >"$T/merge.txt" 2>&1 || rc=$?
cat "$T/merge.txt"
[ "$rc" -eq 1 ] || fail "merge-manifests exit $rc, expected 1 (three failed inputs)"
grep -q "3 manifest(s), 53 input(s): 53 listed, 0 gap(s), 0 duplicate(s), 0 mismatch(es); 50 ok, 0 skipped, 3 failed" "$T/merge.txt" \
  || fail "unexpected coverage"
[ "$(ls "$T/out"/aia_lev1.5_*.fits | wc -l)" -eq 50 ] || fail "expected 50 outputs"
[ "$(wc -l <"$T/out/failures.merged.txt")" -eq 3 ] || fail "expected 3 lines in failures.merged.txt"
echo "PASS: Slurm job array of 3 tasks covered 53 inputs exactly once (50 ok, 3 failed)"
