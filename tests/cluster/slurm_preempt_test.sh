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
preempt_and_resume --nodes=1 --ntasks-per-node=2 --time=00:15:00

summary
