#!/usr/bin/env bash
# Preemption on a real single-node Slurm: SIGUSR1 delivered as Slurm does it (to the batch shell)
# makes dpmlp checkpoint and exit 75, train.sbatch requeues the job, the released job resumes from
# that checkpoint and ends with parameters bitwise equal to an uninterrupted run.
#   bash tests/cluster/slurm_preempt_test.sh [path/to/dpmlp] [repo-root] [path/to/model_diff]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

start_slurm
# Long enough (a few seconds per epoch here) that the signal lands mid-training; momentum so
# that the velocity has to survive the checkpoint too.
cat >"$WORK/run.ini" <<'EOF'
dataset = fashion-mnist
layers = 128
epochs = 4
batch-size = 128
lr = 0.05
momentum = 0.9
seed = 7
checkpoint-every = 300
keep = 2
progress = lines
EOF
export DPMLP_CONFIG=$WORK/run.ini
sbatch_script=$REPO/cluster/slurm/train.sbatch
resources=(--nodes=1 --ntasks-per-node=2 --time=00:15:00)

say "uninterrupted reference run"
ref=$(RUN_DIR=$WORK/ref submit "${resources[@]}" "$sbatch_script")
state=$(wait_state "$ref" 400 "${FINAL_STATES[@]}") || true
require "reference job $ref completed (state $state)" test "$state" = COMPLETED

say "run to be preempted"
job=$(RUN_DIR=$WORK/pre submit "${resources[@]}" "$sbatch_script")
out=$WORK/dpmlp-$job.out err=$WORK/dpmlp-$job.err
require "job $job is training" wait_file_line "$out" '^epoch 1/4 ' 300
scancel --batch --signal=USR1 "$job"
state=$(wait_state "$job" 120 PENDING "${FINAL_STATES[@]}") || true
require "job requeued itself: PENDING (state $state)" test "$state" = PENDING
check "restart count is 1" test "$(job_field "$job" Restarts)" = 1
check "batch shell forwarded the signal" has_line "$out" 'received SIGUSR1; passing it on to the ranks'
stop_line=$(grep -E 'stopped by a signal at step [0-9]+' "$err" | head -n1 || true)
step=$(sed -E 's/.*stopped by a signal at step ([0-9]+).*/\1/' <<<"$stop_line")
check "dpmlp checkpointed on the signal (step ${step:-?})" test -n "$step"
check "that checkpoint is on disk" test -s "$WORK/pre/checkpoints/ckpt-$(printf %010d "${step:-0}").pb"
check "and exited 75, so the script requeued" has_line "$out" 'exit 75\); requeueing job'
check "the training had not finished" test "$(grep -c '^final:' "$out")" = 0

# Release the requeued job only after its first attempt has ended, and not within the same second
# as the requeue: slurmd rejects a start whose credential is not newer than the revocation of the
# previous one ("Job credential revoked"), and the job then FAILS. Slurm's own ~2 minute delay of a
# requeued job avoids that; StartTime=now skips the delay.
require "first attempt ended, node idle" wait_node_idle 120
sleep 2
scontrol update JobId="$job" StartTime=now
state=$(wait_state "$job" 400 "${FINAL_STATES[@]}") || true
check "requeued job completed (state $state)" test "$state" = COMPLETED
check "exit code 0:0" test "$(job_field "$job" ExitCode)" = 0:0
check "log says where it resumed from" \
  has_line "$out" "^resumed from $WORK/pre/checkpoints/ckpt-0*${step:-x}\.pb at step ${step:-x} "
check "second attempt ran under the same job id (restart 1)" has_line "$out" "job $job .*restart 1;"
check "final line equals the reference's" \
  test "$(grep '^final:' "$out")" = "$(grep '^final:' "$WORK/dpmlp-$ref.out")"
check "final parameters bitwise equal to the uninterrupted run" \
  same_parameters "$WORK/ref/model.pb" "$WORK/pre/model.pb"

summary
