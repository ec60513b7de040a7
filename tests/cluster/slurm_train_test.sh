#!/usr/bin/env bash
# cluster/slurm/train.sbatch on a real single-node Slurm: a 2-task job trains to the end and exits 0
# with its results in the default run directory; a job whose dpmlp rejects its input fails with
# that exit code and is not requeued.
#   bash tests/cluster/slurm_train_test.sh [path/to/dpmlp] [repo-root] [path/to/model_diff]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

start_slurm
cat >"$WORK/small.ini" <<'EOF'
dataset = fashion-mnist
layers = 64
epochs = 1
batch-size = 128
lr = 0.1
checkpoint-every = 200
progress = lines
EOF
export DPMLP_CONFIG=$WORK/small.ini
sbatch_script=$REPO/cluster/slurm/train.sbatch

say "2-task training job"
job=$(submit --nodes=1 --ntasks-per-node=2 --time=00:10:00 "$sbatch_script")
out=$WORK/dpmlp-$job.out
run=$WORK/runs/dpmlp-$job
state=$(wait_state "$job" 300 "${FINAL_STATES[@]}") || true
check "job $job completed (state $state)" test "$state" = COMPLETED
check "exit code 0:0" test "$(job_field "$job" ExitCode)" = 0:0
check "not requeued" test "$(job_field "$job" Restarts)" = 0
check "log shows world size 2" has_line "$out" 'world size 2'
check "summary.json in the run dir: completed, with a test accuracy" \
  test "$(summary_field "$run/summary.json" exit_reason)" = completed -a \
  -n "$(summary_field "$run/summary.json" test_accuracy)"
check "batch script reported success" has_line "$out" 'dpmlp finished'
check "model saved in the default run dir" test -s "$run/model.pb"
check "metrics written there (one epoch, world size 2)" \
  test "$(grep -c '"world_size":2' "$run/metrics.jsonl" 2>/dev/null)" = 1
check "checkpoints written there" has_checkpoint "$run"

say "job with bad input"
# --time well above the --signal lead (300 s), or Slurm would signal the job at once.
bad=$(submit --ntasks=2 --time=00:10:00 "$sbatch_script" --layers 0)
state=$(wait_state "$bad" 120 "${FINAL_STATES[@]}") || true
check "bad-input job failed (state $state)" test "$state" = FAILED
check "with dpmlp's exit code 2" test "$(job_field "$bad" ExitCode)" = 2:0
check "and was not requeued" test "$(job_field "$bad" Restarts)" = 0
check "the log says so" has_line "$WORK/dpmlp-$bad.err" 'exited with code 2; not requeued'

summary
