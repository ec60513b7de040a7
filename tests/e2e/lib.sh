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
# Float comparison through awk: lt A B is true when A < B.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
MPIRUN=(mpirun --oversubscribe --mca btl self,vader)
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
