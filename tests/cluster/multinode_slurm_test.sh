#!/usr/bin/env bash
# train.sbatch across the nodes of a real 3-node Slurm made of network namespaces: the cluster comes up quickly with one hostname, address and decoy interface per
# node; `-N 3 --ntasks-per-node 1` and `-N 2 --ntasks-per-node 2` both complete with mpirun and
# with srun (PMIx); dpmlp reports where every rank ran; 4 ranks on 2 hosts end within the
# rank-count-invariance bound of one process; stop.sh leaves nothing behind.
#   bash tests/cluster/multinode_slurm_test.sh [path/to/dpmlp] [repo-root] [path/to/model_diff]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
[[ -n $MODEL_DIFF ]] || { say "error: needs the model_diff tool (third argument)"; exit 1; }

start_cluster 3
# 2 s on an idle machine; the bound leaves room for a loaded CI runner.
check "up within 30 s (took $CLUSTER_UP_S s)" test "$CLUSTER_UP_S" -le 30
check "sinfo: 3 idle nodes node1..node3" test "$(sinfo -h -N -t idle -o %N | sort -u | tr '\n' ' ')" = "node1 node2 node3 "
check "each node has its own hostname" test "$(for n in 1 2 3; do on "node$n" run hostname; done | tr '\n' ' ')" = "node1 node2 node3 "
addr2=$(on node2 run ip -4 -o addr show dev eth0 | awk '{print $4}')
check "node2's eth0 ($addr2) is in DPMLP_NET $DPMLP_NET" test "${addr2%.*}" = "${DPMLP_NET%.*}"
decoy2=$(on node2 run ip -4 -o addr show dev decoy0 | awk '{print $4}')
check "node2 has a decoy interface ($decoy2)" test -n "$decoy2"
check "node1 reaches node2 on the cluster network" \
  on node1 run timeout 5 bash -c "exec 3<>/dev/tcp/${addr2%/*}/$((DPMLP_SLURM_PORT + 1))"
check "node1 does not reach node2's decoy address (5 s, no answer)" \
  test "$(on node1 run timeout 5 bash -c "exec 3<>/dev/tcp/${decoy2%/*}/$((DPMLP_SLURM_PORT + 1))" 2>/dev/null; echo $?)" = 124
check "nodes run with net.ipv4.tcp_retries2 = 5" test "$(on node3 run cat /proc/sys/net/ipv4/tcp_retries2)" = 5

# 50 steps at global batch 100 (the rank-count-invariance run of tests/e2e/mpi_invariance_test.sh).
cat >"$WORK/inv.ini" <<'EOF'
dataset = fashion-mnist
train-samples = 6000
test-samples = 1000
layers = 64,32
batch-size = 100
max-steps = 50
epochs = 1
lr = 0.05
momentum = 0.9
seed = 7
progress = off
EOF
# One epoch, for the metrics record.
sed -e '/^max-steps/d' -e 's/^train-samples.*/train-samples = 3000/' "$WORK/inv.ini" >"$WORK/epoch.ini"
sbatch_script=$REPO/cluster/slurm/train.sbatch
t0=$SECONDS
declare -A jobs
for launcher in mpirun srun; do
  jobs[3x1-$launcher]=$(DPMLP_CONFIG=$WORK/epoch.ini RUN_DIR=$WORK/3x1-$launcher LAUNCHER=$launcher \
    submit -N 3 --ntasks-per-node 1 --time 10:00 "$sbatch_script")
  jobs[2x2-$launcher]=$(DPMLP_CONFIG=$WORK/inv.ini RUN_DIR=$WORK/2x2-$launcher LAUNCHER=$launcher \
    submit -N 2 --ntasks-per-node 2 --time 10:00 "$sbatch_script")
done
say "submitted ${jobs[*]}; meanwhile the one-process reference"
"$DPMLP" train --config "$WORK/inv.ini" --threads 1 --save-model "$WORK/np1.pb" >"$WORK/np1.log"

for run in 3x1-mpirun 3x1-srun 2x2-mpirun 2x2-srun; do
  job=${jobs[$run]}
  state=$(wait_state "$job" 300 "${FINAL_STATES[@]}") || true
  check "$run: job $job completed (state $state)" test "$state" = COMPLETED
  out=$WORK/dpmlp-$job.out
  check "$run: the nodes share one kernel, so ranks are not bound" \
    has_line "$out" 'share one kernel: ranks not bound'
done
say "4 jobs done in $((SECONDS - t0)) s"

for launcher in mpirun srun; do
  out=$WORK/dpmlp-${jobs[3x1-$launcher]}.out
  check "3x1 $launcher: placement one rank on each of node1..node3" has_line "$out" \
    '^placement: world size 3 on 3 hosts: node1 rank 0 \(1\), node2 rank 1 \(1\), node3 rank 2 \(1\)$'
  check "3x1 $launcher: metrics record rank_hosts node1,node2,node3" test \
    "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["rank_hosts"])' \
      "$WORK/3x1-$launcher/metrics.jsonl")" = node1,node2,node3
  out=$WORK/dpmlp-${jobs[2x2-$launcher]}.out
  hosts=$(sed -n 's/^placement: world size 4 on 2 hosts: \(node[0-9]\) ranks 0-1 (2), \(node[0-9]\) ranks 2-3 (2)$/\1 \2/p' "$out")
  check "2x2 $launcher: placement two ranks on each of two hosts ($hosts)" test -n "$hosts"
  check "2x2 $launcher: 50 steps (summary)" \
    test "$(summary_field "$WORK/2x2-$launcher/summary.json" steps)" = 50
  rel=$("$MODEL_DIFF" "$WORK/np1.pb" "$WORK/2x2-$launcher/model.pb" | sed -n 's/^rel_l2 \([^ ]*\) .*/\1/p')
  check "2x2 $launcher vs one process: ||dtheta|| / ||theta|| = $rel <= 1e-5" \
    awk -v r="$rel" 'BEGIN { exit !(r != "" && r + 0 <= 1e-5) }'
done

t0=$SECONDS
"$REPO/cluster/local-slurm/stop.sh" "$SLURM_DIR"
slurm_started=0
say "cluster down in $((SECONDS - t0)) s"
check "no namespace of the cluster is left" \
  test -z "$(ip netns list | grep "^$(cluster_prefix "$SLURM_DIR")-" || true)"
check "no login link is left" test -z "$(ip -o link show | grep "$(cluster_prefix "$SLURM_DIR")-" || true)"
check "stop.sh again is a no-op" "$REPO/cluster/local-slurm/stop.sh" "$SLURM_DIR"

summary
