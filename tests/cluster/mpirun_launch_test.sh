#!/usr/bin/env bash
# cluster/mpirun/launch.sh: 2 ranks over shared memory and over TCP (checked with Open MPI's own
# component selection log), more ranks than cores, usage errors, and SIGTERM or SIGUSR1 to the
# wrapper reaching the ranks (checkpoint, exit 75), and SIGTERM to mpirun itself mapped to 75.
#   bash tests/cluster/mpirun_launch_test.sh [path/to/dpmlp] [repo-root] [path/to/model_diff]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

launch=$REPO/cluster/mpirun/launch.sh
small=(train --dataset surface --epochs 2 --layers "32,32" --progress lines)

# run_transport NAME: 2 ranks; Open MPI logs which byte-transfer components it initialised.
run_transport() {
  local t=$1 log=$WORK/$1.log status=0
  say "2 ranks over $t"
  OMPI_MCA_btl_base_verbose=100 "$launch" -n 2 --transport "$t" -- \
    "$DPMLP" "${small[@]}" --save-model "$WORK/$t.pb" --summary-json "$WORK/$t.json" \
    >"$log" 2>&1 || status=$?
  check "$t: exit 0 (got $status)" test "$status" = 0
  check "$t: world size 2" has_line "$log" 'world size 2'
  check "$t: finished training (summary: completed, a test mse)" \
    test "$(summary_field "$WORK/$t.json" exit_reason)" = completed -a -n "$(summary_field "$WORK/$t.json" test_mse)"
  check "$t: printed the mpirun command with binding" \
    has_line "$log" '^\+ mpirun -np 2 --bind-to core --map-by core '
  check "$t: OpenBLAS single-threaded on every rank" has_line "$log" ' -x OPENBLAS_NUM_THREADS '
}
run_transport shm
check "shm: btl self,vader with ob1" has_line "$WORK/shm.log" ' --mca pml ob1 --mca btl self,vader '
check "shm: vader initialised" has_line "$WORK/shm.log" 'init of component vader returned success'
check "shm: tcp not used" test "$(grep -c 'initializing btl component tcp' "$WORK/shm.log")" = 0
run_transport tcp
check "tcp: btl self,tcp with ob1" has_line "$WORK/tcp.log" ' --mca pml ob1 --mca btl self,tcp '
check "tcp: tcp initialised" has_line "$WORK/tcp.log" 'init of component tcp returned success'
check "tcp: shared memory not used" \
  test "$(grep -c 'initializing btl component vader' "$WORK/tcp.log")" = 0
check "shm and tcp runs end with identical parameters" \
  same_parameters "$WORK/shm.pb" "$WORK/tcp.pb"

over=$(($(nproc --all) + 1))
say "$over ranks on $((over - 1)) cores"
status=0
"$launch" -n "$over" -- "$DPMLP" "${small[@]}" >"$WORK/over.log" 2>&1 || status=$?
check "oversubscribed run exits 0 (got $status)" test "$status" = 0
check "world size $over" has_line "$WORK/over.log" "world size $over"
check "with --oversubscribe and no binding" \
  has_line "$WORK/over.log" "^\+ mpirun -np $over --oversubscribe --bind-to none "

dry=$("$launch" -n 2 --dry-run -- prog 2>&1)
if [[ $EUID -eq 0 ]]; then
  check "root: run-as-root variables exported" grep -q -- '-x OMPI_ALLOW_RUN_AS_ROOT ' <<<"$dry"
else
  check "non-root: no run-as-root variables" test "$(grep -c OMPI_ALLOW_RUN_AS_ROOT <<<"$dry")" = 0
fi
usage_status() { "$launch" "$@" >/dev/null 2>&1 || echo $?; }
check "no -n: exit 2" test "$(usage_status -- prog)" = 2
check "unknown transport: exit 2" test "$(usage_status -n 2 --transport ib -- prog)" = 2
check "no program: exit 2" test "$(usage_status -n 2)" = 2

# A stop signal to the wrapper: the ranks checkpoint and the wrapper exits 75 (mpirun itself would
# turn SIGTERM into exit 1).
for sig in TERM USR1; do
  say "SIG$sig to the wrapper"
  log=$WORK/sig$sig.log
  "$launch" -n 2 -- "$DPMLP" train --epochs 50 --layers 32 --progress lines \
    --checkpoint-dir "$WORK/sig$sig/checkpoints" >"$log" 2>&1 &
  pid=$!
  check "$sig: run is training" wait_file_line "$log" '^epoch 1/50 ' 120
  kill -s "$sig" "$pid"
  status=0
  wait "$pid" || status=$?
  check "$sig: wrapper exits 75 (got $status)" test "$status" = 75
  check "$sig: after writing a checkpoint" has_line "$log" 'stopped by a signal at step [0-9]+'
  check "$sig: which is on disk" has_checkpoint "$WORK/sig$sig"
done

# SIGTERM to mpirun itself (as Ctrl-C to the process group or scancel deliver it): mpirun exits 1,
# but the ranks checkpointed, so the wrapper maps it to 75.
say "SIGTERM to mpirun under the wrapper"
log=$WORK/sigmpirun.log
"$launch" -n 2 -- "$DPMLP" train --epochs 50 --layers 32 --progress lines \
  --checkpoint-dir "$WORK/sigmpirun/checkpoints" >"$log" 2>&1 &
pid=$!
check "mpirun: run is training" wait_file_line "$log" '^epoch 1/50 ' 120
mpirun_pid=$(pgrep -P "$pid" -x mpirun)
check "mpirun: found the wrapper's mpirun ($mpirun_pid)" test -n "$mpirun_pid"
[ -n "$mpirun_pid" ] && kill -TERM "$mpirun_pid"
status=0
wait "$pid" || status=$?
check "mpirun: wrapper exits 75 (got $status)" test "$status" = 75
check "mpirun: says why" has_line "$log" 'launch.sh: mpirun exited 1 after the ranks checkpointed'
check "mpirun: the checkpoint is on disk" has_checkpoint "$WORK/sigmpirun"

summary
