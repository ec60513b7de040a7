#!/usr/bin/env bash
# An ssh stand-in for mpirun across the nodes of the namespace cluster (start.sh --nodes N):
# called as ssh is, `ssh.sh [ssh options] HOST WORD...`, it runs the words as one shell command on
# HOST, inside that node's namespaces (see node.sh run). Give it to Open MPI as its remote shell:
#
#   cluster/mpirun/launch.sh -n 3 --hostfile HOSTS --rsh cluster/local-slurm/ssh.sh -- PROGRAM
#   mpirun --mca plm_rsh_agent "$PWD/cluster/local-slurm/ssh.sh" ...
#
# Unlike ssh it passes the caller's whole environment through (DPMLP_CLUSTER included, which is
# how it finds the cluster).
set -euo pipefail
# ssh options mpirun may add (-x: no X11 forwarding, -q, -o KEY=VALUE, ...) mean nothing here.
while [[ ${1:-} == -* ]]; do
  case $1 in
    -o | -p | -l | -i) shift 2 ;;
    *) shift ;;
  esac
done
(($# >= 2)) || { echo "ssh.sh: usage: ssh.sh HOST COMMAND..." >&2; exit 255; }
host=$1
shift
exec "$(dirname "${BASH_SOURCE[0]}")/node.sh" "$host" run /bin/sh -c "$*"
