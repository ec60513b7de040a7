# Shared by start.sh, stop.sh and node.sh (sourced, not run): naming, daemon checks, munged, and
# running commands inside a node of the multi-node (network namespace) cluster.
# shellcheck shell=bash

log() { echo "local-slurm: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# The cluster's directory: argument, else $DPMLP_SLURM_DIR, else ${TMPDIR:-/tmp}/dpmlp-slurm.
cluster_dir() { realpath -m -- "${1:-${DPMLP_SLURM_DIR:-${TMPDIR:-/tmp}/dpmlp-slurm}}"; }

# Name prefix of everything a multi-node cluster creates outside DIR (namespaces, the login
# link), derived from DIR so that stop.sh finds them even when start.sh failed half-way and two
# clusters in different directories never share a name.
cluster_prefix() { echo "dp$(printf %s "$1" | md5sum | cut -c1-5)"; }

# alive PIDFILE NAME: the pid in PIDFILE runs the NAME daemon (slurmctld runs as slurmctld-wlm;
# a stale pid file must not make us signal whatever process got the number since).
alive() { [[ -s $1 && $(readlink "/proc/$(cat "$1")/exe" 2>/dev/null) == */"$2"* ]]; }

install_packages() {
  local missing=()
  command -v slurmctld >/dev/null || missing+=(slurm-wlm)
  command -v munged >/dev/null || missing+=(munge)
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "${missing[@]}" >&2; then
    apt-get update -q >&2
    apt-get install -y -q "${missing[@]}" >&2
  fi
}

# start_munged DIR: own key, socket and logs in DIR, so a system munged (if any) is not touched.
# Prints nothing; fails (returns 1) with a message.
start_munged() {
  local dir=$1 d
  mkdir -p "$dir"/{munge,run,log}
  # munged only serves a socket that every user can reach: all directories above it need o+x.
  d=$dir
  while [[ $d != / ]]; do
    d=$(dirname "$d")
    (($(stat -c %#a "$d") & 1)) || {
      log "error: munged needs every directory above its socket searchable by all; chmod o+x $d or pick another DIR"
      return 1
    }
  done
  # munged insists: key directory private, socket directory searchable by all.
  chmod 755 "$dir" "$dir/run"
  chmod 700 "$dir/munge"
  local key=$dir/munge/munge.key sock=$dir/run/munge.socket
  head -c 1024 /dev/urandom >"$key"
  chmod 400 "$key"
  munged --key-file="$key" --socket="$sock" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" || {
    log "error: munged did not start"
    return 1
  }
  munge -n -S "$sock" | unmunge -S "$sock" >/dev/null || {
    log "error: munge round trip failed"
    return 1
  }
}

# stop_pid PID SECONDS: SIGTERM, up to SECONDS to exit, then SIGKILL.
stop_pid() {
  local pid=$1 wait_s=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq $((wait_s * 5))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "pid $pid ignored SIGTERM; killing"
  kill -KILL "$pid" 2>/dev/null || true
}

# --- Multi-node cluster (start.sh --nodes N with N >= 2). DIR/cluster.env, written before anything
# is created, names the pieces: CLUSTER_PREFIX, CLUSTER_NODES (node1 node2 ...), CLUSTER_SUBNET
# (three octets: node k is .(10+k), the controller .1, the login link .254), CLUSTER_DECOY.

# load_cluster DIR: reads DIR/cluster.env; returns 1 when DIR holds no multi-node cluster.
load_cluster() {
  [[ -r $1/cluster.env ]] || return 1
  # shellcheck disable=SC1091
  source "$1/cluster.env"
}

node_ns() { echo "$CLUSTER_PREFIX-$1"; }      # a node's (or ctl's, or sw's) network namespace
node_addr() { echo "$CLUSTER_SUBNET.$((10 + ${1#node}))"; }

# in_node DIR NAME CMD...: runs CMD in node NAME (or ctl) as on that host: its network namespace,
# its hostname (own UTS namespace) and the cluster's hosts file over /etc/hosts (own mount
# namespace, so the machine's /etc/hosts is untouched). The environment passes through.
in_node() {
  local dir=$1 name=$2
  shift 2
  # shellcheck disable=SC2016  # expanded by that shell
  ip netns exec "$(node_ns "$name")" unshare --uts --mount --propagation private -- \
    /bin/sh -c 'hostname "$1" && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"' \
    in_node "$name" "$dir/hosts" "$@"
}

# ns_kill NS: SIGKILLs every process in network namespace NS until none is left (forks included).
ns_kill() {
  local pids
  for _ in $(seq 50); do
    pids=$(ip netns pids "$1" 2>/dev/null) || return 0
    [[ -n $pids ]] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  log "warning: processes left in namespace $1: $(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')"
}
