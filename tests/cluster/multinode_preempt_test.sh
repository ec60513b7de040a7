#!/usr/bin/env bash
# Preemption across hosts: on a 2-node namespace cluster, train.sbatch with one
# rank per node is sent SIGUSR1 as Slurm does it (scancel --batch); the ranks on both hosts
# checkpoint, dpmlp exits 75, the job requeues itself, resumes from that checkpoint and ends
# bitwise equal to an uninterrupted run at the same np.
#   bash tests/cluster/multinode_preempt_test.sh [path/to/dpmlp] [repo-root] [path/to/model_diff]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

start_cluster 2
# Several epochs after the first, so that the ranks are still training when they are frozen for the
# signal (see preempt_and_resume); momentum so that the velocity has to survive the checkpoint too.
cat >"$WORK/run.ini" <<'INI'
dataset = fashion-mnist
train-samples = 12000
test-samples = 1000
layers = 128
epochs = 8
batch-size = 128
lr = 0.05
momentum = 0.9
seed = 7
checkpoint-every = 300
keep = 2
progress = lines
INI
export DPMLP_CONFIG=$WORK/run.ini
t0=$SECONDS
preempt_and_resume --nodes=2 --ntasks-per-node=1 --time=00:15:00
say "reference and preempted runs took $((SECONDS - t0)) s"
check "the preempted run used both hosts" \
  has_line "$WORK/dpmlp-$job.out" '^placement: world size 2 on 2 hosts: node1 rank 0 \(1\), node2 rank 1 \(1\)$'

summary
