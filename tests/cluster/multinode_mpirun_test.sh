#!/usr/bin/env bash
# cluster/mpirun/launch.sh across hosts without Slurm: a hostfile of the
# 3 nodes of a namespace cluster, one rank each, daemons started through an ssh stand-in
# (cluster/local-slurm/ssh.sh as Open MPI's plm_rsh_agent, the code path of ssh between real
# hosts). Every node also has a decoy interface in a subnet they all share but that leads nowhere;
# --net (here from DPMLP_NET, which start.sh exports) keeps MPI and launcher traffic off it.
#   bash tests/cluster/multinode_mpirun_test.sh [path/to/dpmlp] [repo-root] [path/to/model_diff]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

start_cluster 3
for n in 1 2 3; do
  check "node$n has its decoy0" has_line <(on "node$n" run ip -4 -o addr show dev decoy0) ' inet 172\.31\.'
done
printf 'node%d slots=1\n' 1 2 3 >"$WORK/hosts"
launch=("$REPO/cluster/mpirun/launch.sh" -n 3 --hostfile "$WORK/hosts" --bind none
  --rsh "$REPO/cluster/local-slurm/ssh.sh")
check "launch.sh --net sets btl_tcp_if_include and oob_tcp_if_include" has_line \
  <("${launch[@]}" --dry-run -- true 2>&1) \
  "--mca btl_tcp_if_include $DPMLP_NET --mca oob_tcp_if_include $DPMLP_NET .*--mca plm_rsh_agent "

cd "$WORK"
t0=$SECONDS
status=0
timeout -k 5 240 "${launch[@]}" -- "$DPMLP" train --dataset fashion-mnist --train-samples 3000 \
  --test-samples 500 --layers 32 --epochs 1 --batch-size 100 --seed 7 --progress off \
  --collective-timeout 60 --metrics "$WORK/m.jsonl" >"$WORK/launch.out" 2>"$WORK/launch.err" || status=$?
say "3 hosts by hostfile: exit $status in $((SECONDS - t0)) s"
check "launch.sh across 3 hosts exits 0 (exit $status)" test "$status" = 0
check "one rank on each host" has_line "$WORK/launch.out" \
  '^placement: world size 3 on 3 hosts: node1 rank 0 \(1\), node2 rank 1 \(1\), node3 rank 2 \(1\)$'
check "metrics rank_hosts node1,node2,node3" test \
  "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["rank_hosts"])' \
    "$WORK/m.jsonl" 2>/dev/null)" = node1,node2,node3
check "no TCP connect warning (the decoys were not tried)" \
  test "$(grep -c 'failed to TCP connect' "$WORK/launch.err")" = 0
cd /

# stop.sh after failures: a crashed node, a partitioned one, and no cluster.env (as after a start
# that failed half-way): it must still find and remove every namespace by its name prefix.
on node2 kill
on node3 partition
rm -f "$SLURM_DIR/cluster.env"
t0=$SECONDS
check "stop.sh succeeds after a node kill, a partition and a lost cluster.env" \
  "$REPO/cluster/local-slurm/stop.sh" "$SLURM_DIR"
slurm_started=0
say "stopped in $((SECONDS - t0)) s"
check "no namespace, login link or directory of the cluster is left" test -z \
  "$(ip netns list | grep "^$(cluster_prefix "$SLURM_DIR")-"; ip -o link show | grep "$(cluster_prefix "$SLURM_DIR")-"; ls -d "$SLURM_DIR" 2>/dev/null)"
check "no daemon of the cluster is left" test -z "$(pgrep -af "$SLURM_DIR" || true)"

summary
