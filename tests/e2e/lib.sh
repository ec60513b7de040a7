# Shared helpers of the end-to-end scripts: `source "$(dirname "$0")/lib.sh" "$@"`.
# Arguments: <dpmlp binary> <repo root> <model_diff binary>. Each check prints a line; the
# script ends with "N passed, M failed" and fails when any check failed.
set -uo pipefail
DPMLP=$1
REPO=$2
MODEL_DIFF=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
WORK=$(mktemp -d /tmp/dpmlp-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
# check "description" command...: passes when the command succeeds.
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# Float comparison through awk: lt A B is true when A < B (false when either is empty).
# lt A B: A < B, both numbers (anything else, say an error message caught in place of a number,
# is false).
NUMBER_RE='^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
lt() { [[ $1 =~ $NUMBER_RE && $2 =~ $NUMBER_RE ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
MPIRUN=(mpirun --oversubscribe --mca btl self,vader)
# ASAN_BUILD=1 when $DPMLP is the sanitizer build (it links libasan). Not `ldd | grep -q`: under
# pipefail, grep quitting at the first match can kill ldd with SIGPIPE and the test then took a
# sanitizer build for a plain one (about 1 run in 8 here).
ASAN_BUILD=0
[[ $(ldd "$DPMLP" 2>/dev/null) == *libasan* ]] && ASAN_BUILD=1
# The dataset-fashion-mnist package; require_fashion_mnist ends a script that needs it, with one
# failed check, when it is missing.
FMNIST=/usr/share/datasets/fashion-mnist
require_fashion_mnist() {
  if [ ! -d "$FMNIST" ]; then
    fail "Fashion-MNIST not installed at $FMNIST (apt-get install dataset-fashion-mnist)"
    finish
    exit
  fi
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# expect_exit WANT "description" command...: runs the command with its stdout and stderr in
# $WORK/last.out and $WORK/last.err; passes when it exits with WANT.
expect_exit() {
  local want=$1 what=$2 rc
  shift 2
  "$@" >"$WORK/last.out" 2>"$WORK/last.err"
  rc=$?
  if [ "$rc" -eq "$want" ]; then
    pass "$what (exit $rc)"
  else
    fail "$what: exit $rc, expected $want; stderr: $(head -c 600 "$WORK/last.err")"
  fi
}
# stderr_names "description" text...: the last expect_exit's stderr contains every text.
stderr_names() {
  local what=$1 t missing=""
  shift
  for t in "$@"; do grep -qF -- "$t" "$WORK/last.err" || missing+=" '$t'"; done
  if [ -z "$missing" ]; then pass "$what names$(printf " '%s'" "$@")"; else
    fail "$what: stderr lacks$missing: $(head -c 600 "$WORK/last.err")"
  fi
}
# metric FILE N KEY: field KEY of the N-th JSON line of a --metrics file (empty when absent).
metric() {
  python3 -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
n = int(sys.argv[2])
print(json.loads(lines[n - 1]).get(sys.argv[3], "") if len(lines) >= n else "")' "$@"
}
# rel_le A B TOL: |A - B| <= TOL * |B|.
rel_le() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(a != "" && d <= t * m) }'; }
# summary FILE KEY: field KEY of a --summary-json file (empty when absent or unreadable).
summary() {
  python3 -c 'import json, sys
print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$@" 2>/dev/null
}
# final_line FILE: rank 0's closing line, e.g.
# "final: test accuracy 81.25% (2000 samples), test loss 0.5952, 282 steps".
final_line() { grep -m1 '^final: ' "$1"; }
