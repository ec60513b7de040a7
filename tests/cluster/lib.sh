# Shared by tests/cluster/*_test.sh (sourced, not run). Usage in a test:
#   source "$(dirname "$0")/lib.sh" "$@"   # $1 dpmlp binary, $2 repository root, $3 model_diff
#                                          # (all optional; CTest passes all three)
# Sets DPMLP, REPO, MODEL_DIFF and WORK (a fresh directory, removed at exit); provides check/summary and, for
# Slurm tests, start_slurm plus job helpers. The EXIT trap always stops the local Slurm.
# shellcheck shell=bash

set -euo pipefail

REPO=$(cd "${2:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)
DPMLP=$(realpath "${1:-$REPO/build/dpmlp}")
MODEL_DIFF=${3:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dpmlp-cluster-test.XXXXXX")
chmod 755 "$WORK"  # munged's socket lives below it and must be reachable by all
SLURM_DIR=$WORK/slurm
# Ports apart from start.sh's default, so a local Slurm someone is trying out is not disturbed.
export DPMLP_SLURM_PORT=${DPMLP_SLURM_PORT:-26817}
export OPENBLAS_NUM_THREADS=1

passed=0
failed=0
slurm_started=0

say() { echo "[$(basename "$0" .sh) $(date +%T)] $*"; }

# assert DESCRIPTION COMMAND...: runs COMMAND, counts and prints PASS/FAIL, returns its verdict.
assert() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "PASS: $what"
  else
    failed=$((failed + 1))
    echo "FAIL: $what"
    return 1
  fi
}

# check: an assertion the test goes on after. require: one it cannot go on without.
check() { assert "$@" || true; }
require() {
  assert "$@" && return 0
  say "cannot go on"
  summary || exit 1
}

summary() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
}

has_line() { grep -qE -- "$2" "$1"; }
has_checkpoint() { compgen -G "$1/checkpoints/ckpt-*.pb" >/dev/null; }

cleanup() {
  local status=$?
  if ((status != 0 || failed != 0)); then
    local f
    for f in "$WORK"/*.out "$WORK"/*.err; do
      [[ -s $f ]] || continue
      echo "---- $f"
      cat "$f"
    done
    if [[ -s $SLURM_DIR/log/slurmctld.log ]]; then
      echo "---- slurmctld.log (last 30 lines)"
      tail -n 30 "$SLURM_DIR/log/slurmctld.log"
    fi
  fi
  if ((slurm_started)); then
    "$REPO/cluster/local-slurm/stop.sh" "$SLURM_DIR" || true
  fi
  rm -rf -- "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x $DPMLP ]] || {
  say "error: dpmlp binary '$DPMLP' is not executable"
  exit 1
}

start_slurm() {
  slurm_started=1  # set first: a half-started Slurm is torn down too
  local exports
  exports=$("$REPO/cluster/local-slurm/start.sh" "$SLURM_DIR")
  eval "$exports"
  say "local Slurm up (SLURM_CONF=$SLURM_CONF)"
}

# job_field JOB FIELD: one field of `scontrol show job`, e.g. JobState, ExitCode, Restarts.
job_field() {
  scontrol -o show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# wait_state JOB SECONDS STATE...: waits until the job is in one of the states; prints the state.
wait_state() {
  local job=$1 limit=$2 state=''
  shift 2
  local deadline=$((SECONDS + limit)) want
  while ((SECONDS < deadline)); do
    state=$(job_field "$job" JobState)
    for want in "$@"; do
      if [[ $state == "$want" ]]; then
        echo "$state"
        return 0
      fi
    done
    sleep 0.5
  done
  echo "$state"
  return 1
}

# wait_node_idle SECONDS: the node has no allocation left (a job's previous attempt has ended).
wait_node_idle() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    [[ $(sinfo -h -N -o %T | head -n1) == idle ]] && return 0
    sleep 0.2
  done
  return 1
}

# shellcheck disable=SC2034  # used by the tests that source this file
FINAL_STATES=(COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY BOOT_FAIL DEADLINE PREEMPTED)

# wait_file_line FILE REGEX SECONDS: waits until FILE has a line matching REGEX.
wait_file_line() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    [[ -e $1 ]] && has_line "$1" "$2" && return 0
    sleep 0.2
  done
  return 1
}

# submit ARGS...: sbatch train.sbatch from $WORK (the submission directory); prints the job id.
submit() {
  (cd "$WORK" && DPMLP_BIN=$DPMLP sbatch --parsable "$@")
}

# same_parameters MODEL_A MODEL_B: the parameters are bitwise equal. (The model files themselves
# also hold their save time and paths.) Uses tests/tools/model_diff when given, else compares the
# tensors `dpmlp export` writes.
same_parameters() {
  if [[ -n $MODEL_DIFF ]]; then
    local diff
    diff=$("$MODEL_DIFF" "$1" "$2") || return 1
    echo "  model_diff: $diff"
    [[ $diff == *"bitwise yes"* ]]
    return
  fi
  local a=$WORK/export.$RANDOM b=$WORK/export.$RANDOM f n=0
  "$DPMLP" export --model "$1" --out "$a" >/dev/null || return 1
  "$DPMLP" export --model "$2" --out "$b" >/dev/null || return 1
  for f in "$a"/*.npy; do
    cmp -s "$f" "$b/$(basename "$f")" || {
      echo "  $(basename "$f") differs"
      return 1
    }
    n=$((n + 1))
  done
  [[ $(find "$b" -name '*.npy' | wc -l) -eq $n && $n -gt 0 ]]
}
