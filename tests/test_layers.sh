#!/usr/bin/env bash
# The layers of docs/architecture.md §1, read from what the linker kept (meson test 'layers').
# Usage: test_layers.sh REPORT_ONLY_EXE HARNESS_ONLY_EXE
#  * REPORT_ONLY_EXE links the report library alone: no FFTW, no Highway, no CUDA among the shared
#    libraries it needs, and no code of reference/, fast/ or the harness (validate/runner).
#  * HARNESS_ONLY_EXE links the validate harness alone: no FFTW threads, fftw3f, Highway or CUDA, and no
#    code of fast/ or of the backend registry. (FFTW double comes with reference/, the ground truth.)
set -euo pipefail
fail=0
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
symbols() { nm -C "$1" | awk '$2 ~ /^[TtWw]$/ { $1 = ""; $2 = ""; print }'; }
refuse() {  # refuse EXE WHAT REGEX: EXE must not match REGEX in WHAT (needed | symbols)
  local hits
  hits=$("$2" "$1" | grep -E "$3" | head -3 || true)
  if [ -n "$hits" ]; then
    echo "FAIL: $(basename "$1") has $2 matching /$3/:"; echo "$hits" | sed 's/^/    /'; fail=1
  else
    echo "ok: $(basename "$1"): no $2 matching /$3/"
  fi
}
report=$1 harness=$2
refuse "$report" needed 'fftw|hwy|cuda|cufft'
refuse "$report" symbols 'aiaccel::(cpu|cuda|reference|registry)::|aiaccel::validate::Runner'
refuse "$harness" needed 'fftw3f|fftw3_threads|hwy|cuda|cufft'
refuse "$harness" symbols 'aiaccel::(cpu|cuda|registry)::'
# The probes themselves must hold what they stand for, or the checks above prove nothing.
holds() {  # holds EXE REGEX WHAT
  if [ "$(symbols "$1" | grep -cE "$2")" -gt 0 ]; then echo "ok: $(basename "$1") holds $3"; else echo "FAIL: $(basename "$1") holds no $3"; fail=1; fi
}
holds "$report" 'aiaccel::validate::report::' 'report code'
holds "$harness" 'aiaccel::validate::Runner::run' 'runner'
holds "$harness" 'aiaccel::reference::' 'reference code'
echo "needed by $(basename "$report"): $(needed "$report" | tr '\n' ' ')"
echo "needed by $(basename "$harness"): $(needed "$harness" | tr '\n' ' ')"
exit "$fail"
