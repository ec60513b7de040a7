#!/usr/bin/env bash
# A lost node on a real 3-node Slurm of network namespaces:
#   A. elastic run (MIN_NODES=2, -N 3): node3 is killed mid-run; train.sbatch names the lost node
#      and its rank, relaunches on node1+node2 from the newest checkpoint, and the job completes:
#      accuracy within 0.5 points of an uninterrupted np-3 run, each epoch's metrics once.
#   B. the node running the batch script is killed (under the script's --no-kill): its guard step
#      requeues the job; once the node is back it resumes from the checkpoint and completes.
#   C. node3's link goes down in a run that may not shrink (MIN_NODES = 3) or requeue: the job
#      ends, saying why, within --collective-timeout + 30 s.
#   D. the same cut under launch.sh by hostfile (no Slurm): it ends with dpmlp's code 5 within
#      --collective-timeout + 30 s, although mpirun itself would wait on the cut-off host.
# Every checkpoint left passes `dpmlp info`.
#   bash tests/cluster/elastic_test.sh [path/to/dpmlp] [repo-root] [path/to/model_diff]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

start_cluster 3
sbatch_script=$REPO/cluster/slurm/train.sbatch
readonly EVERY=30 TIMEOUT=10
# 120 steps per epoch, 3 epochs, a checkpoint every 30 steps.
cat >"$WORK/el.ini" <<EOF
dataset = fashion-mnist
train-samples = 12000
test-samples = 2000
layers = 32
epochs = 3
batch-size = 100
lr = 0.05
lr-schedule = cosine
momentum = 0.9
seed = 3
checkpoint-every = $EVERY
keep = 3
progress = lines
collective-timeout = $TIMEOUT
EOF

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# newest_step DIR: step of the newest checkpoint file in DIR/checkpoints (0 if none).
newest_step() {
  local all=("$1"/checkpoints/ckpt-*.pb)
  [[ -e ${all[-1]} ]] || { echo 0; return; }
  local f=${all[-1]##*/ckpt-}
  echo $((10#${f%.pb}))
}
# wait_checkpoint DIR STEP SECONDS: a checkpoint at STEP or later exists.
wait_checkpoint() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    (($(newest_step "$1") >= $2)) && return 0
    sleep 0.1
  done
  return 1
}
all_checkpoints_valid() {
  local f n=0
  for f in "$1"/checkpoints/ckpt-*.pb; do
    "$DPMLP" info --checkpoint "$f" >/dev/null || { echo "  $f fails dpmlp info"; return 1; }
    n=$((n + 1))
  done
  ((n > 0))
}
epochs_once() {  # the metrics hold epochs 1..3, each once
  test "$(grep -o '"epoch":[0-9]*' "$1/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')" = "1 2 3 "
}
# accuracy RUN: the final test accuracy (percent) in RUN/summary.json.
accuracy() { awk -v a="$(summary_field "$1/summary.json" test_accuracy)" 'BEGIN { if (a != "") printf "%.2f", 100 * a }'; }
within_half_point() {
  echo "  accuracy $1% vs uninterrupted $2%"
  awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(a != "" && d <= 0.5 && d >= -0.5) }'
}
nodes_idle() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    [[ $(sinfo -h -N -o %T | sort -u | tr '\n' ' ') == "idle " ]] && return 0
    sleep 0.5
  done
  return 1
}

say "uninterrupted reference: np 3 with mpirun on this host, same configuration"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$WORK/ref"
require "reference run completed" mpirun --oversubscribe --bind-to none -np 3 "$DPMLP" train \
  --config "$WORK/el.ini" --checkpoint-dir "$WORK/ref/ck" --progress off \
  --summary-json "$WORK/ref/summary.json" >"$WORK/ref.out" 2>&1
ref_acc=$(accuracy "$WORK/ref")

say "A: elastic run on 3 nodes, node3 killed"
run=$WORK/a
job=$(MIN_NODES=2 DPMLP_CONFIG=$WORK/el.ini RUN_DIR=$run submit -N 3 --ntasks-per-node 1 \
  --no-requeue --time 10:00 "$sbatch_script")
out=$WORK/dpmlp-$job.out
require "job $job wrote a checkpoint at step $((2 * EVERY))" wait_checkpoint "$run" $((2 * EVERY)) 200
killed_at_ck=$(newest_step "$run")
t_kill=$(now)
on node3 kill
wait_file_line "$out" '^\[train.sbatch .*\] node node3 lost' 60 || true
t_seen=$(now)
wait_file_line "$out" '^resumed from ' 60 || true
t_back=$(now)
state=$(wait_state "$job" 300 "${FINAL_STATES[@]}") || true
check "job completed on the nodes left (state $state)" test "$state" = COMPLETED
detect=$(elapsed "$t_kill" "$t_seen")
check "node3 found lost within 30 s (${detect} s)" awk -v d="$detect" 'BEGIN { exit !(d <= 30) }'
check "log names the lost node and its rank" has_line "$out" 'node node3 lost \(rank 2\); dropping it'
ck_line=$(grep -E 'relaunch 1/[0-9]+ on 2 node\(s\) \(node1 node2\) from ckpt-[0-9]+\.pb \(step [0-9]+\)' "$out" || true)
resumed=$(sed -nE 's/.*\(step ([0-9]+)\)$/\1/p' <<<"$ck_line")
check "log says it relaunched on node1 node2 and from which step (${resumed:-?})" test -n "$resumed"
check "dpmlp resumed at that step with world size 2" \
  has_line "$out" "^resumed from $run/checkpoints/ckpt-0*${resumed:-x}\.pb at step ${resumed:-x} .*saved by 3 rank"
check "nothing older than the newest checkpoint at the kill (step $killed_at_ck) was redone" \
  test "${resumed:-0}" -ge "$killed_at_ck"
check "metrics hold each epoch once" epochs_once "$run"
check "the last epochs ran at world size 2" has_line "$run/metrics.jsonl" '"epoch":3,.*"world_size":2'
acc_a=$(accuracy "$run")
check "final accuracy within 0.5 points of the uninterrupted run" within_half_point "$acc_a" "$ref_acc"
check "every checkpoint passes dpmlp info" all_checkpoints_valid "$run"
say "A: killed after checkpoint step $killed_at_ck; lost node found after $detect s, training again" \
  "after $(elapsed "$t_kill" "$t_back") s from step ${resumed:-?}; accuracy $acc_a% (reference $ref_acc%)"

on node3 start
require "node3 back in service" nodes_idle 60

say "B: the batch script's node (node1) killed; the guard requeues the job"
run=$WORK/b
# train.sbatch's own --no-kill: Slurm only removes node1 from the job, and the script's guard step
# on another node requeues it. The requeued job asks for the node count it was given, so it
# starts again once node1 is back (docs/cluster.md).
job=$(DPMLP_CONFIG=$WORK/el.ini RUN_DIR=$run submit -N 3 --ntasks-per-node 1 \
  --requeue --time 10:00 "$sbatch_script")
out=$WORK/dpmlp-$job.out
require "job $job wrote a checkpoint at step $((2 * EVERY))" wait_checkpoint "$run" $((2 * EVERY)) 200
killed_at_ck=$(newest_step "$run")
t_kill=$(now)
on node1 kill
state=$(wait_state "$job" 90 PENDING) || true
t_requeued=$(now)
requeue_s=$(elapsed "$t_kill" "$t_requeued")
check "job requeued after the batch node died (state $state, after $requeue_s s)" test "$state" = PENDING
check "the guard said why" has_line "$out" '^\[train.sbatch guard .*\] node node1 \(the batch script.s\) left job [0-9]+; requeueing it$'
on node1 start  # the host comes back, as after a reboot
require "node1 back in service" nodes_idle 60
# Slurm holds a requeued job back ~2 minutes (its BeginTime); release it now.
sleep 2
scontrol update JobId="$job" StartTime=now
state=$(wait_state "$job" 300 "${FINAL_STATES[@]}") || true
check "requeued job completed (state $state)" test "$state" = COMPLETED
check "second attempt ran under the same job id (restart 1)" has_line "$out" "job $job .*restart 1;"
resumed=$(sed -nE 's/^resumed from .* at step ([0-9]+) .*/\1/p' "$out" | tail -n1)
check "it resumed from a checkpoint at or after step $killed_at_ck (${resumed:-none})" \
  test "${resumed:-0}" -ge "$killed_at_ck"
check "metrics hold each epoch once" epochs_once "$run"
check "final accuracy within 0.5 points of the uninterrupted run" within_half_point "$(accuracy "$run")" "$ref_acc"
check "every checkpoint passes dpmlp info" all_checkpoints_valid "$run"
say "B: killed after checkpoint step $killed_at_ck; requeued after $requeue_s s; resumed from step ${resumed:-?}"
require "nodes idle" nodes_idle 60

say "C: node3's link down; MIN_NODES = 3 and no requeue, so the job must end"
run=$WORK/c
job=$(DPMLP_CONFIG=$WORK/el.ini RUN_DIR=$run submit -N 3 --ntasks-per-node 1 --no-requeue \
  --time 10:00 "$sbatch_script")
out=$WORK/dpmlp-$job.out err=$WORK/dpmlp-$job.err
require "job $job wrote a checkpoint at step $EVERY" wait_checkpoint "$run" "$EVERY" 200
t_cut=$(now)
on node3 partition
state=$(wait_state "$job" 120 "${FINAL_STATES[@]}") || true
t_end=$(now)
on node3 heal
ended=$(elapsed "$t_cut" "$t_end")
check "job ended (state $state) within --collective-timeout + 30 s (${ended} s)" \
  awk -v d="$ended" -v s="$state" -v t="$TIMEOUT" 'BEGIN { exit !(s == "FAILED" && d <= t + 30) }'
check "log names the lost node and its rank" has_line "$out" 'node node3 lost \(rank 2\)'
check "and says why it stops" has_line "$err" 'cannot be requeued .*resume by hand with RUN_DIR='
if has_line "$err" 'collective timeout'; then
  check "dpmlp's watchdog names the lost rank and host" has_line "$err" 'lost: rank 2 on node3'
fi
check "every checkpoint passes dpmlp info" all_checkpoints_valid "$run"
say "C: job ended $ended s after the cut; $(grep -m1 -oE 'collective timeout at step [0-9]+.*lost: [^;]*' "$err" || echo 'no watchdog message')"

say "D: the same cut without Slurm: launch.sh by hostfile over the 3 nodes (ssh.sh)"
printf 'node%d slots=1\n' 1 2 3 >"$WORK/hosts"
mkdir -p "$WORK/d"
t_cut=''
timeout -s KILL 150 "$REPO/cluster/mpirun/launch.sh" -n 3 --hostfile "$WORK/hosts" --net "$DPMLP_NET" --bind none \
  --rsh "$REPO/cluster/local-slurm/ssh.sh" -- "$DPMLP" train --config "$WORK/el.ini" \
  --epochs 20 --checkpoint-dir "$WORK/d/checkpoints" --progress off >"$WORK/d.out" 2>&1 &
launch_pid=$!
if wait_checkpoint "$WORK/d" "$EVERY" 200; then
  t_cut=$(now)
  on node3 partition
fi
code=0
wait "$launch_pid" || code=$?
t_end=$(now)
on node3 heal
ended=$(elapsed "${t_cut:-$t_end}" "$t_end")
# Whichever comes first ends it: dpmlp's watchdog (code 5) or mpirun's keepalive on its daemon
# (205); each names what was lost.
check "launch.sh ended (code $code: 5 watchdog or 205 lost daemon) within --collective-timeout + 30 s (${ended} s)" \
  awk -v d="$ended" -v c="$code" -v t="$TIMEOUT" 'BEGIN { exit !((c == 5 || c == 205) && d > 0 && d <= t + 30) }'
if ((code == 5)); then
  check "dpmlp names the lost rank and host" has_line "$WORK/d.out" 'lost: rank 2 on node3'
else
  check "mpirun names the lost host" has_line "$WORK/d.out" 'Remote daemon: .* on node node3'
fi
say "D: launch.sh ended $ended s after the cut with exit $code"

summary
