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
# shellcheck disable=SC1091  # checked on its own
source "$REPO/cluster/local-slurm/common.sh"  # cluster_prefix
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
# summary_field FILE KEY: a field of a --summary-json file ("" when absent); 64-bit integers are
# JSON strings there, printed without quotes all the same.
summary_field() {
  python3 -c 'import json, sys
print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$@" 2>/dev/null
}
# same_result A B: two summary files agree on the final figures, steps and samples.
same_result() {
  local k
  for k in test_accuracy test_mse test_loss steps samples_seen; do
    [ "$(summary_field "$1" "$k")" = "$(summary_field "$2" "$k")" ] || { echo "  $k differs"; return 1; }
  done
  [ -n "$(summary_field "$1" test_loss)" ]
}
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
    for f in "$SLURM_DIR"/log/slurmd-*.log; do
      [[ -s $f ]] || continue
      echo "---- $(basename "$f") (last 10 lines)"
      tail -n 10 "$f"
    done
    if [[ -s $SLURM_DIR/log/slurmctld.log ]]; then
      echo "---- slurmctld.log (last 30 lines)"
      tail -n 30 "$SLURM_DIR/log/slurmctld.log"
    fi
  fi
  if ((slurm_started)); then
    "$REPO/cluster/local-slurm/stop.sh" "$SLURM_DIR" || true
    # Nothing of the cluster may outlive the test.
    if [[ $'\n'$(ip netns list 2>/dev/null) == *$'\n'"$(cluster_prefix "$SLURM_DIR")-"* ]]; then
      echo "FAIL: namespaces left after stop.sh: $(ip netns list | grep "^$(cluster_prefix "$SLURM_DIR")-")"
      ((status)) || status=1
    fi
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

# start_cluster N: a real N-node Slurm of network namespaces (start.sh --nodes N); sets SLURM_CONF,
# DPMLP_CLUSTER and DPMLP_NET. Without root or network namespaces the test fails, saying why:
# these tests must not pass by not running.
start_cluster() {
  require "running as root (network namespaces, slurmd)" test "$EUID" -eq 0
  require "network namespaces are available (ip netns)" ip netns list
  slurm_started=1
  local exports t0=$SECONDS
  exports=$("$REPO/cluster/local-slurm/start.sh" --nodes "$1" "$SLURM_DIR")
  eval "$exports"
  CLUSTER_UP_S=$((SECONDS - t0))
  say "$1-node cluster up in ${CLUSTER_UP_S} s ($exports)"
}

# on NODE CMD...: runs CMD on a node of the namespace cluster.
on() { "$REPO/cluster/local-slurm/node.sh" "$@"; }

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

# wait_node_idle SECONDS: no node has an allocation left (a job's previous attempt has ended).
wait_node_idle() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    [[ $(sinfo -h -N -o %T | sort -u) == idle ]] && return 0
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

# run_ranks DIR: pids of the dpmlp processes whose command line names DIR (the ranks of one run;
# the namespaces share the machine's pid space).
run_ranks() {
  local pid
  for pid in $(pgrep -x dpmlp); do
    # (no `| grep -q` under pipefail: its early exit can SIGPIPE the writer and fail the pipeline)
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$1"* ]] && echo "$pid"
  done
  return 0
}

# wait_signal_pending SIG SECONDS PID...: wait until SIG is pending (process-wide) in every PID.
wait_signal_pending() {
  local bit pid mask deadline=$((SECONDS + $2)) all
  bit=$(($(kill -l "$1") - 1))
  shift 2
  while ((SECONDS < deadline)); do
    all=1
    for pid in "$@"; do
      mask=$(awk '/^ShdPnd:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
      [[ -n $mask ]] && (((16#$mask >> bit) & 1)) || all=0
    done
    ((all)) && return 0
    sleep 0.2
  done
  return 1
}

# preempt_and_resume SBATCH_ARGS...: train.sbatch with $DPMLP_CONFIG (several epochs, checkpoints
# on) run twice: once uninterrupted, once preempted as Slurm does it (SIGUSR1 to the batch shell,
# scancel --batch) after its first epoch. The preempted run must checkpoint, exit 75, requeue
# itself, resume from that checkpoint and end bitwise equal to the uninterrupted one.
preempt_and_resume() {
  local sbatch_script=$REPO/cluster/slurm/train.sbatch resources ref out err state stop_line step
  job=''  # global: the preempted job, for the caller
  resources=("$@")

  say "uninterrupted reference run"
  ref=$(RUN_DIR=$WORK/ref submit "${resources[@]}" "$sbatch_script")
  state=$(wait_state "$ref" 400 "${FINAL_STATES[@]}") || true
  require "reference job $ref completed (state $state)" test "$state" = COMPLETED

  say "run to be preempted"
  job=$(RUN_DIR=$WORK/pre submit "${resources[@]}" "$sbatch_script")
  out=$WORK/dpmlp-$job.out err=$WORK/dpmlp-$job.err
  require "job $job is training" wait_file_line "$out" '^epoch 1/[0-9]+ ' 300
  # A fast machine finishes a few epochs in about a second, faster than scancel's signal travels
  # batch shell -> mpirun -> orted -> rank. Freeze the ranks, let the signal arrive (pending), then
  # thaw them: the signal is handled mid-training however fast the machine is.
  local ranks
  mapfile -t ranks < <(run_ranks "$WORK/pre/")
  require "found the ${#ranks[@]} ranks of job $job" test "${#ranks[@]}" -gt 0
  kill -STOP "${ranks[@]}"
  scancel --batch --signal=USR1 "$job"
  check "SIGUSR1 reached every frozen rank" wait_signal_pending USR1 30 "${ranks[@]}"
  kill -CONT "${ranks[@]}"
  state=$(wait_state "$job" 120 PENDING "${FINAL_STATES[@]}") || true
  require "job requeued itself: PENDING (state $state)" test "$state" = PENDING
  check "restart count is 1" test "$(job_field "$job" Restarts)" = 1
  check "batch shell forwarded the signal" has_line "$out" 'received SIGUSR1; passing it on to the ranks'
  stop_line=$(grep -E 'stopped by a signal at step [0-9]+' "$err" | head -n1 || true)
  step=$(sed -E 's/.*stopped by a signal at step ([0-9]+).*/\1/' <<<"$stop_line")
  check "dpmlp checkpointed on the signal (step ${step:-?})" test -n "$step"
  check "that checkpoint is on disk" test -s "$WORK/pre/checkpoints/ckpt-$(printf %010d "${step:-0}").pb"
  check "and exited 75, so the script requeued" has_line "$out" 'exit 75\); requeueing job'
  check "the training had not finished (summary: preempted)" \
    test "$(summary_field "$WORK/pre/summary.json" exit_reason)" = preempted

  # Release the requeued job only after its first attempt has ended, and not within the same second
  # as the requeue: slurmd rejects a start whose credential is not newer than the revocation of the
  # previous one ("Job credential revoked"), and the job then FAILS. Slurm's own ~2 minute delay of a
  # requeued job avoids that; StartTime=now skips the delay.
  require "first attempt ended, nodes idle" wait_node_idle 120
  sleep 2
  scontrol update JobId="$job" StartTime=now
  state=$(wait_state "$job" 400 "${FINAL_STATES[@]}") || true
  check "requeued job completed (state $state)" test "$state" = COMPLETED
  check "exit code 0:0" test "$(job_field "$job" ExitCode)" = 0:0
  check "log says where it resumed from" \
    has_line "$out" "^resumed from $WORK/pre/checkpoints/ckpt-0*${step:-x}\.pb at step ${step:-x} "
  check "second attempt ran under the same job id (restart 1)" has_line "$out" "job $job .*restart 1;"
  check "final test figures, steps and samples equal the reference's" \
    same_result "$WORK/pre/summary.json" "$WORK/ref/summary.json"
  check "final parameters bitwise equal to the uninterrupted run" \
    same_parameters "$WORK/ref/model.pb" "$WORK/pre/model.pb"
}
