# The multi-node cluster of start.sh --nodes N (sourced by start.sh and stop.sh, not run).
#
# Layout, all names prefixed by cluster_prefix DIR (P below), all state in DIR:
#   P-sw            "switch" namespace: bridge br0, one port per node, controller and login link
#   P-ctl           controller namespace, host ctl, SUBNET.1, slurmctld
#   P-node1 ...     node namespaces, host nodeK, eth0 SUBNET.(10+K), slurmd; decoy0 DECOY.(10+K)
#   P-login         veth in this machine's own namespace, SUBNET.254: sbatch, squeue, ... from here
# The decoy0 of every node sits in one subnet of its own (like docker0 or a management network on
# real hosts) but leads nowhere: another node's decoy address resolves (static neighbour entry)
# to a MAC that nobody has, so packets to it are silently dropped, as by a firewall.
#
# Each namespace gets the kernel settings a cluster admin sets for bounded failure detection:
#   net.ipv4.tcp_retries2=5   an unacknowledged TCP connection is dropped after ~6 s of
#                             retransmissions instead of ~15 min (the default 15), so an abort
#                             sent to a partitioned peer does not hold mpirun for minutes
#   net.ipv6.conf.*.disable_ipv6=1  the cluster is IPv4 only (no link-local addresses to guess)
# shellcheck shell=bash disable=SC2154  # nodes, here, conf, fail, common_conf, wait_idle: start.sh

readonly SYSCTLS=(net.ipv4.tcp_retries2=5 net.ipv6.conf.all.disable_ipv6=1
  net.ipv6.conf.default.disable_ipv6=1)

# pick_subnet PREFIX: three octets for the cluster /24 that this machine does not route yet.
pick_subnet() {
  local h i s
  if [[ -n ${DPMLP_CLUSTER_SUBNET:-} ]]; then
    [[ $DPMLP_CLUSTER_SUBNET =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
      fail "DPMLP_CLUSTER_SUBNET must be three octets like 10.201.7, not '$DPMLP_CLUSTER_SUBNET'"
    echo "$DPMLP_CLUSTER_SUBNET"
    return
  fi
  h=$((16#$(printf %s "$1" | md5sum | cut -c1-6)))
  for i in $(seq 0 49); do
    s=10.$((200 + (h + i) % 50)).$(((h >> 8) % 256))
    ip -4 route show | grep -q "^${s//./\\.}\." || { echo "$s"; return; }
  done
  fail "no free 10.200-249.x.0/24 subnet; set DPMLP_CLUSTER_SUBNET"
}

ns_up() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  local s
  for s in "${SYSCTLS[@]}"; do ip netns exec "$1" sysctl -q -w "$s" >/dev/null; done
}

# plug NS IFNAME ADDR PORT: a veth from NS (named IFNAME, address ADDR/24) to bridge port PORT.
plug() {
  local ns=$1 ifname=$2 addr=$3 port=$4
  ip link add "$port-a" netns "$ns" type veth peer name "$port" netns "$sw"
  ip -n "$ns" link set "$port-a" name "$ifname"
  ip -n "$ns" addr add "$addr/24" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
  ip -n "$sw" link set "$port" master br0 up
}

start_multi() {
  local p subnet decoy k name names=() hardware
  p=$(cluster_prefix "$dir")
  if load_cluster "$dir" && alive "$dir/run/slurmctld.pid" slurmctld; then
    if [[ $(wc -w <<<"$CLUSTER_NODES") -eq $nodes ]]; then
      log "already running in $dir"
      print_exports
      return
    fi
    fail "a cluster of $(wc -w <<<"$CLUSTER_NODES") nodes runs in $dir; stop it first"
  fi
  "$here/stop.sh" "$dir" >&2 # leftovers of a half-started or crashed instance
  ip netns list >/dev/null 2>&1 || die "network namespaces are not available here (ip netns list failed)"
  local t0=$SECONDS
  subnet=$(pick_subnet "$dir")
  decoy=172.31.${subnet##*.}
  for k in $(seq "$nodes"); do names+=("node$k"); done
  mkdir -p "$dir"/{state,spool,log,run,tmp}
  # Written first: from here on stop.sh knows every name, whatever fails next.
  cat >"$dir/cluster.env" <<EOF
CLUSTER_PREFIX=$p
CLUSTER_NODES="${names[*]}"
CLUSTER_SUBNET=$subnet
CLUSTER_DECOY=$decoy
EOF
  load_cluster "$dir"
  {
    echo "127.0.0.1 localhost"
    echo "$subnet.1 ctl"
    for name in "${names[@]}"; do echo "$(node_addr "$name") $name"; done
    echo "$subnet.254 login"
  } >"$dir/hosts"

  sw=$p-sw
  ns_up "$sw"
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set br0 up
  ns_up "$p-ctl"
  plug "$p-ctl" eth0 "$subnet.1" ctl
  for name in "${names[@]}"; do
    ns_up "$(node_ns "$name")"
    plug "$(node_ns "$name")" eth0 "$(node_addr "$name")" "$name"
    ip -n "$(node_ns "$name")" link add decoy0 type veth peer name decoy0-end
    ip -n "$(node_ns "$name")" addr add "$decoy.$((10 + ${name#node}))/24" dev decoy0
    ip -n "$(node_ns "$name")" link set decoy0 up
    ip -n "$(node_ns "$name")" link set decoy0-end up
    # The other nodes' decoy addresses resolve to a MAC that nobody has: packets vanish.
    for k in $(seq "$nodes"); do
      [[ node$k == "$name" ]] || ip -n "$(node_ns "$name")" neigh add "$decoy.$((10 + k))" \
        lladdr 02:00:00:00:de:c0 dev decoy0 nud permanent
    done
    mkdir -p "$dir/spool/$name" "$dir/tmp/$name"
  done
  # The login link: this namespace's end is the only trace of the cluster outside namespaces.
  ip link add "$p-login" type veth peer name login netns "$sw"
  ip addr add "$subnet.254/24" dev "$p-login"
  ip link set "$p-login" up
  ip -n "$sw" link set login master br0 up

  start_munged "$dir" || fail "munge"
  hardware=$(slurmd -C | sed -n 's/^NodeName=[^ ]* //p')
  [[ -n $hardware ]] || fail "slurmd -C printed no node line"
  # slurmd under `ip netns exec` sees a fresh /sys without cgroups: cgroup/v1 with the plugins
  # above never touches them.
  echo "CgroupPlugin=cgroup/v1" >"$dir/cgroup.conf"
  {
    echo "# Generated by cluster/local-slurm/start.sh --nodes $nodes: namespace cluster; all state in $dir."
    echo "ClusterName=dpmlp-$p"
    echo "SlurmctldHost=ctl($subnet.1)"
    common_conf
    cat <<EOF
# All nodes share one filesystem: per-node spool, pid, log and job temporary directories.
SlurmdSpoolDir=$dir/spool/%n
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmdLogFile=$dir/log/slurmd-%n.log
TmpFS=$dir/tmp/%n
# Quick failure detection: a silent node is DOWN after 10 s.
SlurmdTimeout=10
SlurmctldTimeout=10
MessageTimeout=5
EOF
    for name in "${names[@]}"; do
      echo "NodeName=$name NodeAddr=$(node_addr "$name") $hardware State=UNKNOWN"
    done
    echo "PartitionName=local Nodes=node[1-$nodes] Default=YES MaxTime=INFINITE State=UP"
  } >"$conf"

  in_node "$dir" ctl slurmctld -f "$conf" || fail "slurmctld did not start"
  for name in "${names[@]}"; do
    in_node "$dir" "$name" slurmd -f "$conf" -N "$name" || fail "slurmd on $name did not start"
  done
  wait_idle "$nodes"
  log "up in $((SECONDS - t0)) s: ${names[*]} idle on $subnet.0/24 (decoys on $decoy.0/24), state in $dir"
  log "stop with: $here/stop.sh $dir"
  print_exports
}

print_exports() {
  echo "export SLURM_CONF=$conf DPMLP_CLUSTER=$dir DPMLP_NET=$CLUSTER_SUBNET.0/24"
}

# stop_multi DIR PREFIX: stops whatever a (possibly half-started) cluster left, in this order:
# jobs, daemons by pid, every other process in the namespaces, namespaces, login link.
stop_multi() {
  local dir=$1 p=$2 f ns
  export SLURM_CONF=$dir/slurm.conf
  if [[ -e $SLURM_CONF ]] && alive "$dir/run/slurmctld.pid" slurmctld &&
    [[ -n $(timeout 5 squeue -h -o %i 2>/dev/null) ]]; then
    log "cancelling remaining jobs"
    timeout 5 scancel -p local 2>/dev/null || true
    for _ in $(seq 20); do
      [[ -z $(timeout 5 squeue -h -t RUNNING,COMPLETING,CONFIGURING -o %i 2>/dev/null) ]] && break
      sleep 0.5
    done
  fi
  # All daemons at once (each slurmd takes ~2 s to shut down); whatever is left after 5 s goes
  # with the namespaces below.
  local pids=()
  for f in "$dir"/run/slurmd-*.pid "$dir/run/slurmctld.pid"; do
    if [[ -e $f ]] && alive "$f" slurm; then pids+=("$(cat "$f")"); fi
  done
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local left pid
    for _ in $(seq 25); do
      left=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
      ((left)) || break
      sleep 0.2
    done
  fi
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$p-" || true); do
    ns_kill "$ns"
    ip netns del "$ns" 2>/dev/null || log "warning: could not delete namespace $ns"
  done
  ip link del "$p-login" 2>/dev/null || true
}
