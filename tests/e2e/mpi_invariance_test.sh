# End-to-end over real MPI ranks: results do not depend on the rank
# count, every sample of an epoch counts once whatever the rank count, TCP gives the same
# answer as shared memory, and a bad data path ends a 2-rank run quickly with exit 2 and one
# message.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
require_fashion_mnist

# 50 steps of global batch 100 (which 3 and 4 do not divide: shards of 33/33/34 and 25 x 4) on
# the first 6000 training images; the 64,32 net keeps np = 4 on 2 cores quick. A final
# checkpoint records the step and the samples seen, which no log line reports when --max-steps
# ends training inside an epoch.
RUN=(train --train-samples 6000 --test-samples 1000 --layers 64,32 --batch-size 100
  --max-steps 50 --epochs 1 --lr 0.05 --momentum 0.9 --seed 7 --progress off)
# 50 full batches of 100: 5000 samples seen, at every rank count.
WANT_SAMPLES=5000

# position FIELD CHECKPOINT_DIR: a field of the training position saved in the newest checkpoint.
position() {
  "$DPMLP" info --checkpoint "$(ls "$2"/ckpt-*.pb | tail -1)" | sed -n "s/^ *$1: //p" | head -1
}
world_size() { "$DPMLP" info --checkpoint "$(ls "$1"/ckpt-*.pb | tail -1)" | sed -n 's/^world_size: //p'; }

# invariance LABEL NP MPIRUN-ARGS...: trains at NP ranks (with the dpmlp options in EXTRA) and
# compares with the np = 1 run.
EXTRA=()
invariance() {
  local label=$1 np=$2 diff rel
  shift 2
  expect_exit 0 "$label: 50 steps" timeout 120 "$@" -np "$np" "$DPMLP" "${RUN[@]}" "${EXTRA[@]}" \
    --save-model "$label.pb" --checkpoint-dir "ck-$label" --summary-json "$label.json"
  # The header proves the ranks formed one world (not np independent single-process runs).
  check "$label: rank 0 reports world size $np" grep -q "world size $np (open-mpi)" last.out
  check "$label: the summary reports 50 steps at world size $np" \
    test "$(summary "$label.json" steps)" = 50 -a "$(summary "$label.json" world_size)" = "$np"
  check "$label: checkpoint says world_size $np, step 50, $WANT_SAMPLES samples seen" \
    test "$(world_size "ck-$label")" = "$np" -a "$(position step "ck-$label")" = 50 \
    -a "$(position samples_seen "ck-$label")" = "$WANT_SAMPLES"
  final_loss() { summary "$label.json" test_loss; }
  [ "$label" = np1 ] && NP1_LOSS=$(final_loss) && return
  diff=$("$MODEL_DIFF" np1.pb "$label.pb")
  rel=$(sed -n 's/^rel_l2 \([^ ]*\) .*/\1/p' <<<"$diff")
  # Ranks differ from np = 1 only in the order floats are summed (shard sums, then the allreduce):
  # ~1e-7 relative per step, growing slowly over 50 steps; the invariance bound is 1e-5.
  check "$label vs np1: ||theta_np - theta_1|| / ||theta_1|| = $rel <= 1e-5" lt "$rel" 1.0000001e-5
}

for np in 1 2 3 4; do invariance "np$np" "$np" "${MPIRUN[@]}"; done
# The same over TCP, standing in for separate hosts. pml ob1 makes the btl list binding
# (the UCX pml, when it is picked, would bypass it).
invariance tcp2 2 mpirun --oversubscribe --mca pml ob1 --mca btl self,tcp
# The allreduce in buckets started during backward (16 KiB: the 64,32 net's first layer,
# 784 x 64, comes in 5-row blocks) is the same arithmetic, at 2 and 3 ranks and over TCP.
EXTRA=(--allreduce-bucket-kb 16)
invariance bucket2 2 "${MPIRUN[@]}"
invariance bucket3 3 "${MPIRUN[@]}"
invariance buckettcp2 2 mpirun --oversubscribe --mca pml ob1 --mca btl self,tcp
check "bucketed np 2 and fused np 2 agree to 1e-5 relative" \
  lt "$("$MODEL_DIFF" np2.pb bucket2.pb | sed -n 's/^rel_l2 \([^ ]*\) .*/\1/p')" 1.0000001e-5

# The default sum on one host is the shared-memory window (--allreduce auto); MPI's allreduce
# (--allreduce mpi) adds the same two numbers at np 2, so the models are bitwise equal; at np 3
# both are within the invariance bound. A world over TCP (standing in for hosts) still takes
# the shared window when its ranks share a host: what decides is the host, not the transport.
EXTRA=(--allreduce mpi)
invariance mpi2 2 "${MPIRUN[@]}"
invariance mpi3 3 "${MPIRUN[@]}"
check "np 3 over MPI: the default is the ring reduce-scatter, sharded update and allgather (the log says so)" \
  grep -q "^gradient exchange: MPI reduce-scatter, sharded update" last.out
check "np 2: the shared-memory sum and MPI's allreduce give bitwise equal models" \
  grep -q "bitwise yes" <("$MODEL_DIFF" np2.pb mpi2.pb)
EXTRA=()
invariance shm2 2 "${MPIRUN[@]}"
check "the default at np 2 on one host is the shared-memory sum and the sharded update (the log says so)" \
  grep -q "^gradient exchange: shared-memory sum and sharded update" last.out

# The update is sharded by default (ZeRO stage 1: each rank updates its share of the parameters
# with its share of the velocity, and the shares are gathered). Every rank updating everything
# (--update replicated) computes the same floats from the same sums: over the shared window at
# np 2 and 3 (rank-order sums either way) the models are bitwise equal; over MPI at np 3 (the ring
# reduce-scatter adds in another order than Open MPI's allreduce) within the invariance bound.
EXTRA=(--update replicated)
invariance rep2 2 "${MPIRUN[@]}"
check "the replicated update says so in the log" grep -q "^gradient exchange: shared-memory sum (every" last.out
invariance rep3 3 "${MPIRUN[@]}"
check "np 2: sharded and replicated update give bitwise equal models" \
  grep -q "bitwise yes" <("$MODEL_DIFF" np2.pb rep2.pb)
check "np 3: sharded and replicated update give bitwise equal models" \
  grep -q "bitwise yes" <("$MODEL_DIFF" np3.pb rep3.pb)
EXTRA=(--update replicated --allreduce mpi)
invariance repmpi3 3 "${MPIRUN[@]}"
check "np 3 over MPI: the replicated update runs Open MPI's allreduce (the log says so)" \
  grep -q "^gradient exchange: MPI allreduce$" last.out
# --overlap-gather leaves the sharded update's parameter allgather running while the next step's
# inputs are gathered: the same floats arrive, so the models are bitwise those without it.
EXTRA=(--allreduce mpi --overlap-gather)
invariance ovl2 2 "${MPIRUN[@]}"
check "--overlap-gather says so in the log" grep -q "allgather overlapped with the next step" last.out
invariance ovl3 3 "${MPIRUN[@]}"
for np in 2 3; do
  check "np $np: the overlapped allgather gives the model bitwise" \
    grep -q "bitwise yes" <("$MODEL_DIFF" "mpi$np.pb" "ovl$np.pb")
done

expect_exit 2 "--allreduce shm with --grad-wire bf16" timeout 60 "${MPIRUN[@]}" -np 2 "$DPMLP" \
  "${RUN[@]}" --allreduce shm --grad-wire bf16
check "the refusal names both options" grep -q -- "--allreduce shm.*--grad-wire bf16" last.err

# bf16 on the wire rounds every gradient to 8 significant bits (relative error up to 2^-9): the
# parameters leave the fp32 bound at once and the trajectories drift apart, but the model is as
# good: its test loss within 10 % of np = 1's. It is recorded in the checkpoint; resuming in fp32
# says so.
EXTRA=(--grad-wire bf16)
expect_exit 0 "bf16: 50 steps at np 2" timeout 120 "${MPIRUN[@]}" -np 2 "$DPMLP" "${RUN[@]}" \
  "${EXTRA[@]}" --save-model bf16.pb --checkpoint-dir ck-bf16 --summary-json bf16.json
rel=$("$MODEL_DIFF" np1.pb bf16.pb | sed -n 's/^rel_l2 \([^ ]*\) .*/\1/p')
check "bf16 vs np1: rel $rel is above the fp32 bound 1e-5 (the rounding is real)" lt 1e-5 "$rel"
BF16_LOSS=$(summary bf16.json test_loss)
check "bf16 test loss $BF16_LOSS within 10 % of np 1's $NP1_LOSS" rel_le "$BF16_LOSS" "$NP1_LOSS" 0.1
check "bf16 checkpoint records grad_wire bf16" \
  grep -q 'grad_wire: "bf16"' <("$DPMLP" info --checkpoint "$(ls ck-bf16/ckpt-*.pb | tail -1)")
expect_exit 0 "bf16 checkpoint resumed in fp32" timeout 120 "${MPIRUN[@]}" -np 2 "$DPMLP" \
  "${RUN[@]}" --checkpoint-dir ck-bf16
check "the resume names the changed wire format" \
  grep -q 'resume: using new value --grad-wire "fp32" (checkpoint: "bf16")' last.out

# An epoch of 1001 samples at global batch 100 and np = 3: ten batches of 100 (shards
# 33/33/34) and a last one of 1 (two ranks empty), 11 steps. The metrics must count exactly 1001
# samples, and the train loss (sum of per-sample losses over the epoch / 1001) equals the
# one-rank run's up to float summation order: 1e-5 relative.
EPOCH=(train --train-samples 1001 --test-samples 500 --layers 64,32 --batch-size 100 --epochs 1
  --lr 0.05 --momentum 0.9 --seed 7 --progress off)
expect_exit 0 "1001 samples at np 1" timeout 120 "${MPIRUN[@]}" -np 1 "$DPMLP" "${EPOCH[@]}" \
  --metrics e1.jsonl
expect_exit 0 "1001 samples at np 3" timeout 120 "${MPIRUN[@]}" -np 3 "$DPMLP" "${EPOCH[@]}" \
  --metrics e3.jsonl
check "np 3: one metrics line, samples = 1001, step = 11, world_size = 3" \
  test "$(wc -l <e3.jsonl)" = 1 -a "$(metric e3.jsonl 1 samples)" = 1001 \
  -a "$(metric e3.jsonl 1 step)" = 11 -a "$(metric e3.jsonl 1 world_size)" = 3
check "np 1: samples = 1001, step = 11" \
  test "$(metric e1.jsonl 1 samples)" = 1001 -a "$(metric e1.jsonl 1 step)" = 11
# The same epoch with bucketed allreduce: the two ranks with empty shards in the last step must
# still start the same buckets as the third.
expect_exit 0 "1001 samples at np 3, bucketed" timeout 120 "${MPIRUN[@]}" -np 3 "$DPMLP" \
  "${EPOCH[@]}" --allreduce-bucket-kb 16 --collective-timeout 30 --metrics e3b.jsonl
check "the metrics record the sum each run used: shared memory by default" \
  grep -q '"exchange":"shared-memory sum' e3.jsonl
check "and MPI's allreduce in buckets with --allreduce-bucket-kb 16" \
  grep -q '"exchange":"MPI allreduce, buckets of 16 KiB"' e3b.jsonl
L3B=$(metric e3b.jsonl 1 train_loss)
L1=$(metric e1.jsonl 1 train_loss)
check "np 3 bucketed train loss $L3B equals np 1's $L1 within 1e-5 relative" rel_le "$L3B" "$L1" 1e-5
L3=$(metric e3.jsonl 1 train_loss)
check "np 3 train loss $L3 equals np 1's $L1 within 1e-5 relative" rel_le "$L3" "$L1" 1e-5
# Parameters ~1e-7 apart can flip at most a near-tie among the 500 test samples: allow one.
A1=$(metric e1.jsonl 1 test_accuracy)
A3=$(metric e3.jsonl 1 test_accuracy)
check "np 3 test accuracy $A3 within one sample (0.002) of np 1's $A1" \
  awk -v a="$A3" -v b="$A1" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d <= 0.0020001 && -d <= 0.0020001) }'


# A bad data path at np = 2. Every rank validates its inputs before the first
# collective, so both must exit 2 on their own, print one message between them, and finish in
# seconds (a hang would run into the 60 s timeout).
start=$(date +%s)
expect_exit 2 "bad --data-dir at np 2" timeout 60 "${MPIRUN[@]}" -np 2 "$DPMLP" train \
  --data-dir "$WORK/missing-data" --epochs 1 --progress off
elapsed=$(($(date +%s) - start))
check "bad --data-dir at np 2 ends within 20 s (took ${elapsed} s)" test "$elapsed" -le 20
check "the message names the directory exactly once in stderr" \
  test "$(grep -c "dpmlp: error: .*$WORK/missing-data" last.err)" = 1
check "no rank prints it again with a [rank r] prefix, nothing on stdout" \
  test "$(grep -c '\[rank ' last.err)" = 0 -a ! -s last.out
# Each rank's own exit code, with mpirun told not to kill the others when the first one exits
# non-zero: both must reach exit 2 by themselves.
cat >rank.sh <<'SH'
"$@"
rc=$?
echo "rank $OMPI_COMM_WORLD_RANK exit $rc" >>"codes.$OMPI_COMM_WORLD_RANK"
exit $rc
SH
timeout 60 "${MPIRUN[@]}" --mca orte_abort_on_non_zero_status 0 -np 2 bash rank.sh "$DPMLP" train \
  --data-dir "$WORK/missing-data" --epochs 1 --progress off >/dev/null 2>&1
check "rank 0 and rank 1 each exit 2" \
  test "$(cat codes.0 2>/dev/null)" = "rank 0 exit 2" -a "$(cat codes.1 2>/dev/null)" = "rank 1 exit 2"

finish
