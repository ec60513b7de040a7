#!/usr/bin/env bash
# Run dpmlp (or any MPI program) with Open MPI's mpirun: one rank per core, OpenBLAS single-threaded.
#
# Usage: launch.sh -n N [--hostfile FILE] [--net CIDR] [--bind core|none] [--rsh AGENT]
#                  [--transport auto|shm|tcp] [--dry-run] -- PROGRAM [ARGS...]
#   launch.sh -n 2 -- build/dpmlp train --config examples/fashion-784-16-16-10.ini
#   launch.sh -n 64 --hostfile cluster/mpirun/hosts -- /shared/dpmlp train --checkpoint-dir /shared/ck
#
#   -n N          number of ranks
#   --hostfile F  hosts and slots (see hosts.example); without it all ranks run on this host, and
#                 more ranks than cores are allowed (--oversubscribe, no binding) for trying things
#   --net CIDR    network between the hosts, as a CIDR (10.1.0.0/16) or interface names (eth1):
#                 Open MPI's btl_tcp_if_include (MPI traffic) and oob_tcp_if_include (mpirun's
#                 own traffic with its daemons). Default $DPMLP_NET; without either Open MPI tries
#                 every interface, including ones that do not reach the other hosts (docker0, ...)
#   --bind        with --hostfile: core (default, one rank bound per core) or none (hosts that
#                 share CPUs, like the namespace cluster of cluster/local-slurm)
#   --rsh AGENT   how mpirun starts its daemons on the other hosts (default ssh): Open MPI's
#                 plm_rsh_agent, called as `AGENT HOST COMMAND...`; cluster/local-slurm/ssh.sh
#                 enters a node of the namespace cluster
#   --transport   auto (default): Open MPI picks (shared memory within a host, the fastest network
#                 between hosts); shm: shared memory only (one host); tcp: TCP only, even within a
#                 host. shm and tcp pin the ob1 messaging layer, so UCX cannot bypass the choice.
#   --dry-run     print the mpirun command, do not run it
#
# The mpirun command is printed to stderr before it runs. After a rank's MPI_Abort, mpirun gets
# ABORT_GRACE seconds (default 20) to end the job before it is killed (a host cut off from the
# network can otherwise hold it for many minutes); the exit status is then the abort's code.
# SIGTERM, SIGINT or SIGUSR1 sent to this script reach the ranks as SIGUSR1: dpmlp checkpoints and
# exits 75, and so does this script, also when the signal reached mpirun directly (mpirun itself
# would exit 1). Otherwise the exit status is mpirun's (the first non-zero rank status).
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit 0
}
die() { echo "launch.sh: $*" >&2; exit 2; }

ranks='' hostfile='' transport=auto dry_run=0 net=${DPMLP_NET:-} bind=core rsh=
while (($#)); do
  case $1 in
    -n | --np) [[ $# -ge 2 ]] || die "$1 needs a value"; ranks=$2; shift 2 ;;
    --hostfile) [[ $# -ge 2 ]] || die "$1 needs a value"; hostfile=$2; shift 2 ;;
    --net) [[ $# -ge 2 ]] || die "$1 needs a value"; net=$2; shift 2 ;;
    --bind) [[ $# -ge 2 ]] || die "$1 needs a value"; bind=$2; shift 2 ;;
    --rsh) [[ $# -ge 2 ]] || die "$1 needs a value"; rsh=$2; shift 2 ;;
    --transport) [[ $# -ge 2 ]] || die "$1 needs a value"; transport=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    *) die "unknown option '$1' (put the program after --)" ;;
  esac
done
[[ $ranks =~ ^[1-9][0-9]*$ ]] || die "-n must be a positive number of ranks"
(($#)) || die "no program given after --"

cmd=(mpirun -np "$ranks")
if [[ -n $hostfile ]]; then
  [[ -r $hostfile ]] || die "hostfile '$hostfile' is not readable"
  [[ $bind == core || $bind == none ]] || die "--bind must be core or none, not '$bind'"
  cmd+=(--hostfile "$hostfile" --bind-to "$bind" --map-by core)
else
  cores=$(nproc --all)
  if ((ranks > cores)); then
    # Binding two ranks to one core would only make them wait for each other.
    echo "launch.sh: $ranks ranks on $cores cores: oversubscribing, ranks not bound" >&2
    cmd+=(--oversubscribe --bind-to none)
  else
    cmd+=(--bind-to core --map-by core)
  fi
fi
if [[ -n $net ]]; then
  [[ $net =~ ^[[:alnum:]./,:_-]+$ ]] || die "--net must be a CIDR or interface names, not '$net'"
  cmd+=(--mca btl_tcp_if_include "$net" --mca oob_tcp_if_include "$net")
fi
if [[ -n $rsh ]]; then
  [[ -x $rsh ]] || die "--rsh agent '$rsh' is not executable"
  cmd+=(--mca plm_rsh_agent "$(realpath "$rsh")")
fi
case $transport in
  auto) ;;
  shm) cmd+=(--mca pml ob1 --mca btl "self,vader") ;;
  tcp) cmd+=(--mca pml ob1 --mca btl "self,tcp") ;;
  *) die "--transport must be auto, shm or tcp, not '$transport'" ;;
esac
# Bounded failure detection for mpirun's own daemons (each unless the environment sets it): a
# silent connection is probed after 10 s idle, every 2 s, given up after 3 missed probes, so a
# host cut off from the network ends the job in about 16 s instead of Open MPI's ~8 min.
for kv in oob_tcp_keepalive_time=10 oob_tcp_keepalive_intvl=2 oob_tcp_keepalive_probes=3; do
  var=OMPI_MCA_${kv%%=*}
  [[ -n ${!var:-} ]] || cmd+=(--mca "${kv%%=*}" "${kv#*=}")
done
# -x exports to the ranks on every host; one BLAS thread per rank since there is one rank per core.
export OPENBLAS_NUM_THREADS=1  # dpmlp --threads is the way to ask for more
cmd+=(-x OPENBLAS_NUM_THREADS)
if [[ $EUID -eq 0 ]]; then
  # Open MPI refuses to run as root unless told twice; only then, never for ordinary users.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  cmd+=(-x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM)
fi
cmd+=("$@")

# Shown as a shell would need it; plain words are left unquoted so the line stays readable.
line='+'
for word in "${cmd[@]}"; do
  if [[ $word =~ ^[[:alnum:]_./,:=@%+-]+$ ]]; then line+=" $word"; else line+=" $(printf '%q' "$word")"; fi
done
echo "$line" >&2
((dry_run)) && exit 0

# Not exec: mpirun answers SIGTERM and SIGINT by aborting the job with exit code 1 even when the
# ranks have checkpointed and exited 75; SIGUSR1 it forwards and then returns the ranks' 75. So
# every stop signal sent to this script is passed on as SIGUSR1 (dpmlp treats them alike).
# A signal can also reach mpirun itself (Ctrl-C to the process group, scancel, kill of the job's
# processes): mpirun then exits 1 although the job stopped cleanly. The ranks' stderr is
# therefore also copied to a temporary file; when mpirun fails and rank 0 said it stopped by a
# signal after writing its checkpoint ("stopped by a signal at step N; checkpoint ... written"),
# this script exits 75 instead. The mapping:
#   ranks checkpointed and exited 75   -> 75, whatever mpirun returned (1 after SIGTERM/SIGINT)
#   any other failure                  -> mpirun's status
pid=''
# shellcheck disable=SC2317  # run by the trap
stop() { if [[ -n $pid ]]; then kill -USR1 "$pid" 2>/dev/null || true; fi; }
trap stop TERM INT USR1
# Once a rank has called MPI_Abort, mpirun tells every host to stop; a host cut off from the
# network can hold that for the kernel's TCP retransmission time (~15 min by default), even after
# every rank has ended. mpirun's stderr is passed through and watched: for the abort (if mpirun is
# still there ABORT_GRACE seconds later it is killed and this script exits with the abort's error
# code), and kept for the ranks' "checkpoint written" line (the exit-75 mapping below).
abort_note=$(mktemp "${TMPDIR:-/tmp}/launch-abort.XXXXXX")
errlog=$(mktemp "${TMPDIR:-/tmp}/launch-stderr.XXXXXX")
trap 'rm -f "$abort_note" "$errlog"' EXIT
watch_stderr() {
  local line seen=0  # Open MPI: "MPI_ABORT was invoked on rank R ..." then "with errorcode N."
  while IFS= read -r line; do
    printf '%s
' "$line" >&2
    printf '%s
' "$line" >>"$errlog"
    [[ $line == *"MPI_ABORT was invoked"* ]] && seen=1
    if ((seen)) && [[ $line =~ errorcode\ ([0-9]+) ]]; then
      echo "${BASH_REMATCH[1]}" >"$abort_note"
      seen=0
    fi
  done
}
exec 3> >(watch_stderr)
watchpid=$!
"${cmd[@]}" 2>&3 &
pid=$!
(
  while kill -0 "$pid" 2>/dev/null && [[ ! -s $abort_note ]]; do sleep 1; done
  for ((i = 0; i < ${ABORT_GRACE:-20}; i++)); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 1; done
  echo "launch.sh: mpirun still runs ${ABORT_GRACE:-20} s after MPI_Abort (a host unreachable?); killing it" >&2
  kill -KILL "$pid" 2>/dev/null
) &
# A trapped signal ends `wait` early while mpirun still runs; the last wait returns its status.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || true; done
status=0
wait "$pid" || status=$?
if ((status == 128 + 9)) && [[ -s $abort_note ]]; then status=$(<"$abort_note"); fi
exec 3>&-
wait "$watchpid" 2>/dev/null || true
if ((status != 0 && status != 75)) &&
  grep -qE 'dpmlp: stopped by a signal at step [0-9]+; checkpoint .* written' "$errlog"; then
  echo "launch.sh: mpirun exited $status after the ranks checkpointed on a signal: exiting 75" >&2
  status=75
fi
exit "$status"
