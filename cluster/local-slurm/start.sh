#!/usr/bin/env bash
# Start a real Slurm on this machine (munged, slurmctld and slurmd from Debian's slurm-wlm and
# munge packages) for trying out cluster/slurm/train.sbatch and for tests/cluster.
#
#   eval "$(cluster/local-slurm/start.sh --nodes 3)"   # 3 nodes; sets SLURM_CONF etc. in this shell
#   sbatch -N 3 cluster/slurm/train.sbatch ; squeue ; sinfo
#   cluster/local-slurm/node.sh node2 kill             # fault injection, see node.sh
#   cluster/local-slurm/stop.sh                        # kills everything, removes the directory
#
# Usage: start.sh [--nodes N] [DIR]
#   --nodes N  1 (default): one node, the machine itself (no namespaces). N >= 2: N nodes, each a
#              network namespace with its own hostname (node1..nodeN), address on a private
#              bridge, slurmd and a decoy interface (decoy0) that the other nodes cannot reach;
#              slurmctld in a namespace of its own (host ctl); this shell gets a link to the
#              bridge, as a login node. Needs network namespaces (ip netns); fails if there are none.
#   DIR        holds everything: munge key and socket, slurm.conf, controller state, spool, logs.
#              Default: $DPMLP_SLURM_DIR, else ${TMPDIR:-/tmp}/dpmlp-slurm. Give stop.sh the same DIR.
# Environment:
#   DPMLP_SLURM_PORT      slurmctld port, slurmd uses the next one (default 16817; Slurm's own
#                         defaults 6817/6818 are left to a system Slurm)
#   DPMLP_CLUSTER_SUBNET  first three octets of the multi-node cluster's /24 (default derived from
#                         DIR, 10.200-249.x; one not already routed on this machine)
#
# Needs root (slurmd starts jobs as the submitting user); installs slurm-wlm and munge with apt-get
# when they are missing. Only export lines go to stdout (SLURM_CONF; for N >= 2 also
# DPMLP_CLUSTER, the directory node.sh uses, and DPMLP_NET, the cluster network for
# train.sbatch and launch.sh); progress and, on failure, the daemon logs go to stderr. Running it
# again while the Slurm in DIR is up just prints the export lines.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

nodes=1 dir_arg=''
while (($#)); do
  case $1 in
    --nodes) [[ $# -ge 2 ]] || die "--nodes needs a value"; nodes=$2; shift 2 ;;
    --nodes=*) nodes=${1#--nodes=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) [[ -z $dir_arg ]] || die "more than one DIR given"; dir_arg=$1; shift ;;
  esac
done
[[ $nodes =~ ^[1-9][0-9]?$ ]] || die "--nodes must be 1 to 99, not '$nodes'"
dir=$(cluster_dir "$dir_arg")
port=${DPMLP_SLURM_PORT:-16817}
conf=$dir/slurm.conf
export SLURM_CONF=$conf

[[ $EUID -eq 0 ]] || die "must run as root (slurmd launches jobs as the submitting user)"

show_logs() {
  local f
  for f in "$dir"/log/*.log; do
    [[ -e $f ]] || continue
    log "---- $f (last 20 lines)"
    tail -n 20 "$f" >&2
  done
}

fail() {
  log "error: $*"
  show_logs
  "$here/stop.sh" "$dir" >&2 || true
  exit 1
}

# Lines of slurm.conf that both kinds of cluster share.
common_conf() {
  cat <<EOF
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/run/munge.socket
StateSaveLocation=$dir/state
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups here: track job processes through /proc, no task binding by Slurm.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# No slurmdbd, so no sacct: finished jobs are written here (JobState, ExitCode) and stay visible
# to scontrol show job for MinJobAge seconds.
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
MinJobAge=600
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobRequeue=1
ReturnToService=2
KillWait=10
MailProg=/bin/true
EOF
}

# wait_idle COUNT: waits until COUNT nodes are idle.
wait_idle() {
  local idle=0
  for _ in $(seq 120); do
    idle=$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l)
    ((idle >= $1)) && return 0
    alive "$dir/run/slurmctld.pid" slurmctld || fail "slurmctld exited"
    sleep 0.25
  done
  fail "only $idle of $1 nodes idle after 30 s"
}

install_packages

if ((nodes >= 2)); then
  # shellcheck source-path=SCRIPTDIR source=multi.sh
  source "$here/multi.sh"
  start_multi
  exit 0
fi

# --- One node: the machine itself.
host=$(hostname -s)
if alive "$dir/run/slurmctld.pid" slurmctld && alive "$dir/run/slurmd.pid" slurmd; then
  log "already running in $dir"
  echo "export SLURM_CONF=$conf"
  exit 0
fi
"$here/stop.sh" "$dir" >&2  # leftovers of a half-started or crashed instance
mkdir -p "$dir"/{state,spool,log,run}
start_munged "$dir" || fail "munge"

# The hardware line comes from slurmd -C (CPUs, sockets, cores, threads, RealMemory).
hardware=$(slurmd -C | sed -n 's/^NodeName=[^ ]* //p')
[[ -n $hardware ]] || fail "slurmd -C printed no node line"
{
  echo "# Generated by cluster/local-slurm/start.sh: single-node Slurm for testing; all state in $dir."
  echo "ClusterName=dpmlp-local"
  echo "SlurmctldHost=$host(127.0.0.1)"
  common_conf
  cat <<EOF
SlurmdSpoolDir=$dir/spool
SlurmdPidFile=$dir/run/slurmd.pid
SlurmdLogFile=$dir/log/slurmd.log
SlurmdTimeout=300
NodeName=$host NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
} >"$conf"

slurmctld -f "$conf" || fail "slurmctld did not start"
slurmd -f "$conf" || fail "slurmd did not start"
wait_idle 1

log "up: node $host idle, state in $dir (stop with: $here/stop.sh $dir)"
echo "export SLURM_CONF=$conf"
