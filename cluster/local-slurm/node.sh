#!/usr/bin/env bash
# Act on one node of the multi-node cluster that start.sh --nodes N started (fault injection for
# tests, and for trying things by hand).
#
# Usage: node.sh NODE run CMD [ARGS...]  run CMD on NODE (its network, hostname and /etc/hosts;
#                                        this environment passes through); exit status is CMD's
#        node.sh NODE kill               SIGKILL every process on NODE, slurmd included: a crashed host
#        node.sh NODE partition          take NODE's link down at the switch (packets vanish silently)
#        node.sh NODE heal               bring that link back up
#        node.sh NODE start              start slurmd on NODE again (after kill; ReturnToService=2
#                                        brings the node back into service)
#   NODE is node1..nodeN (or ctl, the controller). The cluster is found through $DPMLP_CLUSTER,
#   which start.sh exports, else the directory of $SLURM_CONF.
#
#   eval "$(cluster/local-slurm/start.sh --nodes 3)"
#   cluster/local-slurm/node.sh node2 run hostname -I
#   cluster/local-slurm/node.sh node3 partition; sleep 20; cluster/local-slurm/node.sh node3 heal
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit "${1:-0}"; }
[[ ${1:-} == -h || ${1:-} == --help ]] && usage
(($# >= 2)) || usage 2 >&2
node=$1 action=$2
shift 2

dir=${DPMLP_CLUSTER:-}
[[ -n $dir || -z ${SLURM_CONF:-} ]] || dir=$(dirname "$SLURM_CONF")
[[ -n $dir ]] || die "no cluster: set DPMLP_CLUSTER (eval the output of start.sh --nodes N)"
load_cluster "$dir" || die "$dir holds no multi-node cluster (no cluster.env)"
[[ $node == ctl || " $CLUSTER_NODES " == *" $node "* ]] ||
  die "no node '$node' in this cluster (nodes: $CLUSTER_NODES, ctl)"
ns=$(node_ns "$node")
ip netns pids "$ns" >/dev/null 2>&1 || die "namespace $ns of $node does not exist (cluster stopped?)"

[[ $EUID -eq 0 ]] || die "must run as root"
case $action in
  run)
    (($#)) || die "run needs a command"
    in_node "$dir" "$node" "$@"
    ;;
  kill)
    ns_kill "$ns"
    log "$node: every process killed"
    ;;
  partition | heal)
    state=down
    [[ $action == heal ]] && state=up
    ip -n "$CLUSTER_PREFIX-sw" link set "$node" "$state"
    log "$node: link $state"
    ;;
  start)
    if alive "$dir/run/slurmd-$node.pid" slurmd; then
      log "$node: slurmd already runs"
    else
      in_node "$dir" "$node" slurmd -f "$dir/slurm.conf" -N "$node"
      log "$node: slurmd started"
    fi
    ;;
  *) die "unknown action '$action' (run, kill, partition, heal, start)" ;;
esac
