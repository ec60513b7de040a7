#!/usr/bin/env bash
# Stop the Slurm started by start.sh (one node or --nodes N) and remove its directory. Idempotent
# and safe after a failed start: a missing directory, already dead daemons or a half-built
# namespace cluster are fine.
#
# Usage: stop.sh [DIR]   (same DIR and default as start.sh)
#
# Jobs still in the system are cancelled first and given a little time to end; then the daemons
# are stopped by the pids in DIR/run. A multi-node cluster's namespaces (found by the name prefix
# derived from DIR, see common.sh) are emptied with SIGKILL and deleted, with the login link.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"
dir=$(cluster_dir "${1:-}")
prefix=$(cluster_prefix "$dir")

# Namespaces are looked for even without DIR: they may outlive a removed directory.
if [[ -e $dir/cluster.env ]] || ip netns list 2>/dev/null | grep -q "^$prefix-"; then
  # shellcheck source-path=SCRIPTDIR source=multi.sh
  source "$here/multi.sh"
  stop_multi "$dir" "$prefix"
  alive "$dir/run/munged.pid" munged && stop_pid "$(cat "$dir/run/munged.pid")" 5
  rm -rf -- "$dir"
  log "stopped; removed namespaces $prefix-* and $dir"
  exit 0
fi

[[ -d $dir ]] || exit 0
# Refuse to delete a directory that start.sh did not make (an empty one is fine).
if [[ -n $(ls -A "$dir") && ! -e $dir/slurm.conf && ! -d $dir/run ]]; then
  log "error: $dir does not look like a local Slurm directory (no slurm.conf, no run/); not touching it"
  exit 1
fi

pid_of() { [[ -s $dir/run/$1.pid ]] && cat "$dir/run/$1.pid"; }
# Sends TERM, waits up to $2 seconds, then KILL.
stop_daemon() { if alive "$dir/run/$1.pid" "$1"; then stop_pid "$(pid_of "$1")" "$2"; fi; }

# Step daemons of this instance: slurmstepd runs in our log directory and writes our slurmd.log.
stepds() {
  local p f
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/exe" 2>/dev/null) == */slurmstepd* ]] || continue
    for f in "$p/cwd" "$p"/fd/*; do
      if [[ $(readlink "$f" 2>/dev/null) == "$dir"/* ]]; then
        echo "${p#/proc/}"
        break
      fi
    done
  done
}

export SLURM_CONF=$dir/slurm.conf
if [[ -e $SLURM_CONF ]] && alive "$dir/run/slurmctld.pid" slurmctld && alive "$dir/run/slurmd.pid" slurmd; then
  partition=$(sed -n 's/^PartitionName=\([^ ]*\).*/\1/p' "$SLURM_CONF")
  if [[ -n $(squeue -h -p "$partition" -o %i 2>/dev/null) ]]; then
    log "cancelling remaining jobs"
    scancel -p "$partition" 2>/dev/null || true
    for _ in $(seq 60); do
      [[ -z $(squeue -h -p "$partition" -t RUNNING,COMPLETING,CONFIGURING -o %i 2>/dev/null) ]] && break
      sleep 0.5
    done
  fi
fi

stop_daemon slurmd 10
stop_daemon slurmctld 10
# Only after a crash: step daemons orphaned by slurmd, with their jobs' processes.
tree() { local c; for c in $(pgrep -P "$1"); do tree "$c"; done; echo "$1"; }
for pid in $(stepds); do
  log "killing leftover slurmstepd $pid and its processes"
  for p in $(tree "$pid"); do kill -KILL "$p" 2>/dev/null || true; done
done
stop_daemon munged 5

rm -rf -- "$dir"
log "stopped; removed $dir"
