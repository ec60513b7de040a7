#!/usr/bin/env bash
# The regularisers added for the fashion-best recipe, under data parallelism: the left-right flip, random erasing, input
# dropout, label smoothing and weight averaging give the same model at np 1, 2 and 3 (up to float
# summation order), each of them changes the model, and a run with all of them on, stopped inside
# the averaged epochs and resumed, is bitwise the uninterrupted run.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
require_fashion_mnist

rel_l2() { "$MODEL_DIFF" "$1" "$2" | sed -n 's/^rel_l2 \([^ ]*\) .*/\1/p'; }
bitwise() { [[ $("$MODEL_DIFF" "$1" "$2") == *'bitwise yes'* ]]; }

# 3000 images, global batch 100 (shards 33/33/34 at np 3): 30 steps per epoch, 3 epochs; the
# average covers the last 2 (60 steps).
BASE=(train --train-samples 3000 --test-samples 500 --layers 64,32 --batch-size 100 --epochs 3
  --lr 0.05 --momentum 0.9 --lr-schedule cosine --seed 5 --progress off)
NEW=(--augment-flip --erase-prob 0.5 --input-dropout 0.2 --label-smoothing 0.1 --average-epochs 2)

# --- 1. rank-count invariance --------------------------------------------------------------------
for np in 1 2 3; do
  expect_exit 0 "all five at np $np" timeout 120 "${MPIRUN[@]}" -np "$np" "$DPMLP" "${BASE[@]}" \
    "${NEW[@]}" --save-model "inv$np.pb" --metrics "inv$np.jsonl" --summary-json "inv$np.json"
  cp last.out "inv$np.out"
done
for np in 2 3; do
  rel=$(rel_l2 inv1.pb "inv$np.pb")
  check "np $np vs np 1: rel L2 $rel <= 1e-5" lt "$rel" 1.0000001e-5
done
check "the final model is the average of the last 60 steps" \
  grep -q "^weight averaging: the final model is the mean of the parameters after the last 60 steps" inv1.out
# The averaged model's test accuracy is reported per epoch from the first averaged epoch on, and
# the final line reports that model.
avg1=$(metric inv1.jsonl 1 avg_test_accuracy)
avg3=$(metric inv1.jsonl 3 avg_test_accuracy)
check "epoch 1 has no average, epoch 3 has one ($avg3)" test -z "$avg1" -a -n "$avg3"
final=$(summary inv1.json test_accuracy)
check "the final accuracy $final is the averaged model's ($avg3)" test -n "$final" -a "$final" = "$avg3"

# Each option must move the model by far more than the invariance bound, or the bound says
# nothing about it: drop each in turn (one process).
without() {  # without NAME [flag]: the np 1 run with option NAME (and its value) removed
  local out=() skip=0 a
  for a in "${NEW[@]}"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    if [ "$a" = "$1" ]; then [ "${2:-}" = flag ] || skip=1; continue; fi
    out+=("$a")
  done
  "$DPMLP" "${BASE[@]}" "${out[@]}" --save-model "without$1.pb" >/dev/null
  rel=$(rel_l2 inv1.pb "without$1.pb")
  check "$1 changes the model (without it: rel L2 $rel > 1e-3)" lt 1e-3 "$rel"
}
without --augment-flip flag
for opt in --erase-prob --input-dropout --label-smoothing --average-epochs; do without $opt; done

# --- 2. bitwise resume ---------------------------------------------------------------------------
# Stopped at step 45, half-way through the first averaged epoch (the checkpoint carries 15
# steps of the average), and at step 75 in the second.
NP=2
RUN=("${MPIRUN[@]}" -np $NP "$DPMLP" "${BASE[@]}" "${NEW[@]}")
expect_exit 0 "np $NP, uninterrupted" "${RUN[@]}" --save-model full.pb --metrics full.jsonl
for stop in 45 75; do
  expect_exit 0 "np $NP, stopped at step $stop" "${RUN[@]}" --max-steps $stop --checkpoint-dir ck \
    --metrics res.jsonl
done
expect_exit 0 "np $NP, resumed to the end" "${RUN[@]}" --checkpoint-dir ck --save-model res.pb \
  --metrics res.jsonl
check "the last run resumed from step 75" grep -q "resumed from ck/ckpt-0000000075.pb at step 75" last.out
check "resumed model is bitwise the uninterrupted one" bitwise full.pb res.pb
check "per-epoch metrics, the averaged model's included, are identical" python3 -c 'import json, sys
a, b = ([json.loads(l) for l in open(f)] for f in sys.argv[1:3])
keys = ("epoch", "step", "lr", "train_loss", "test_loss", "test_accuracy", "avg_test_loss",
        "avg_test_accuracy")
sys.exit(not (len(a) == len(b) == 3 and all(x.get(k) == y.get(k) for x, y in zip(a, b) for k in keys)))' \
  full.jsonl res.jsonl

# --- 3. bad values are refused with the option's name --------------------------------------------
for bad in "--erase-prob 1.5" "--input-dropout 1" "--label-smoothing -0.1" "--average-epochs 4" \
  "--erase-max-area 0.01"; do
  # shellcheck disable=SC2086
  expect_exit 2 "$bad is refused" "$DPMLP" "${BASE[@]}" $bad
  stderr_names "$bad" "${bad%% *}"
done
expect_exit 2 "--augment-flip on a table is refused" "$DPMLP" train --dataset sin --augment-flip
stderr_names "--augment-flip on sin" "--augment-flip" "not images"

finish
