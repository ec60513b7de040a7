#!/usr/bin/env bash
# Stop the single-node Slurm started by start.sh and remove its directory. Idempotent: a missing
# directory or already dead daemons are fine.
#
# Usage: stop.sh [DIR]   (same DIR and default as start.sh)
#
# Jobs still in the system are cancelled first and given KillWait to end, so that no slurmstepd
# or job process outlives the daemons; then slurmd, slurmctld and munged are stopped by the pids
# in DIR/run.
set -euo pipefail

dir=$(realpath -m -- "${1:-${DPMLP_SLURM_DIR:-${TMPDIR:-/tmp}/dpmlp-slurm}}")

log() { echo "local-slurm: $*" >&2; }

[[ -d $dir ]] || exit 0
# Refuse to delete a directory that start.sh did not make (an empty one is fine).
if [[ -n $(ls -A "$dir") && ! -e $dir/slurm.conf && ! -d $dir/run ]]; then
  log "error: $dir does not look like a local Slurm directory (no slurm.conf, no run/); not touching it"
  exit 1
fi

pid_of() { [[ -s $dir/run/$1.pid ]] && cat "$dir/run/$1.pid"; }
# Alive and still that daemon (slurmctld runs as slurmctld-wlm): a stale pid file must not make
# us kill whatever process got the number since.
alive() {
  local pid
  pid=$(pid_of "$1") && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */"$1"* ]]
}

# Sends TERM, waits up to $2 seconds, then KILL.
stop_daemon() {
  local name=$1 wait_s=$2 pid
  alive "$name" || return 0
  pid=$(pid_of "$name")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((wait_s * 5))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "$name ($pid) ignored SIGTERM; killing"
  kill -KILL "$pid" 2>/dev/null || true
}

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
if [[ -e $SLURM_CONF ]] && alive slurmctld && alive slurmd; then
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
