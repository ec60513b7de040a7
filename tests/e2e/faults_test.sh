#!/usr/bin/env bash
# Faults: a rank killed with SIGKILL ends the job within 30 s and --resume auto
# then finishes bitwise equal to an uninterrupted run; a stopped rank is named by the collective
# watchdog; a diverging run exits 3 naming the step and layer, and never checkpoints non-finite values.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1

# The pid of rank R of this test's running job (from the environment Open MPI gives each rank;
# only processes working in this test's directory, so a test running beside it is never hit).
rank_pid() {
  local p
  for p in $(pgrep -f "^$DPMLP train"); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$PWD" ] || continue
    if [[ $'\n'$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null)$'\n' == *$'\n'"OMPI_COMM_WORLD_RANK=$1"$'\n'* ]]; then
      echo "$p"
      return
    fi
  done
}
wait_for() { for _ in $(seq 2400); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }

W=(--test-samples 200 --layers 256,128 --epochs 3 --batch-size 100 --progress off --seed 11)

# --- SIGKILL of one rank ---------------------------------------------------------------------
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${W[@]}" --save-model full.pb >/dev/null
timeout 120 "${MPIRUN[@]}" -np 2 "$DPMLP" train "${W[@]}" --checkpoint-dir k --checkpoint-every 40 \
  --save-model resumed.pb >log_kill 2>&1 &
job=$!
wait_for k/ckpt-0000000080.pb
victim=$(rank_pid 1)
start=$(date +%s.%N)
kill -KILL "$victim"
wait "$job"
rc=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
check "SIGKILL of rank 1 ends the job with a non-zero status (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "... within 30 s (took $took s)" lt "$took" 30
ok=1
for f in k/ckpt-*.pb; do "$DPMLP" info --checkpoint "$f" >/dev/null 2>&1 || ok=0; done
check "every file under a checkpoint name is complete and valid" test "$ok" -eq 1
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${W[@]}" --checkpoint-dir k --checkpoint-every 40 \
  --save-model resumed.pb >log_resume 2>&1
check "--resume auto continues from the newest checkpoint" grep -q "resumed from k/ckpt-" log_resume
check "... and finishes bitwise equal to an uninterrupted run" \
  grep -q "bitwise yes" <("$MODEL_DIFF" full.pb resumed.pb)

# --- a stopped rank and the collective watchdog ----------------------------------------------
timeout 120 "${MPIRUN[@]}" -np 3 "$DPMLP" train "${W[@]}" --checkpoint-dir st --checkpoint-every 40 \
  --collective-timeout 4 >log_stop 2>&1 &
job=$!
wait_for st/ckpt-0000000040.pb
start=$(date +%s.%N)
kill -STOP "$(rank_pid 1)"
wait "$job"
rc=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
check "a stopped rank ends the job with exit 5 (got $rc)" test "$rc" -eq 5
check "... within 30 s (took $took s)" lt "$took" 30
check "the watchdog names the step and the rank that did not arrive" \
  grep -qE "collective timeout at step [0-9]+: .* rank\(s\) 1 that did not arrive \(arrived: 0,2\)" log_stop
check "no rank lists an empty set of missing ranks (the late rank names itself)" \
  test "$(grep -c 'rank(s)  that did not arrive' log_stop)" = 0

# --- divergence --------------------------------------------------------------------------------
"$DPMLP" train --train-samples 2000 --test-samples 100 --layers 64 --lr 1e4 --checkpoint-dir dv \
  --checkpoint-every 1 --progress off >log_div 2>&1
rc=$?
check "an absurd learning rate exits 3 (got $rc)" test "$rc" -eq 3
# Which comes first depends on float summation (thread count): a non-finite gradient, named by
# its layer, or a loss that overflowed while the gradients stayed finite.
check "the message names the step (and the layer, for a gradient)" grep -qE \
  "training diverged at step [0-9]+: (non-finite gradient in layer[0-9]\.(weight|bias)|the loss is not finite)" log_div
ok=1
for f in dv/ckpt-*.pb; do "$DPMLP" eval --checkpoint "$f" --test-samples 50 >/dev/null 2>&1 || ok=0; done
check "every checkpoint left holds finite values (and the last good one stays)" test "$ok" -eq 1 -a -n "$(ls dv)"
finish
