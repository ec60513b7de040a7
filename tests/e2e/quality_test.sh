#!/usr/bin/env bash
# Learning-quality options under data parallelism: dropout and augmentation keep
# results independent of the rank count; a run with every option on resumes bitwise; early
# stopping stops, keeps the best model as best.pb, and its state survives a resume.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
require_fashion_mnist

# rel_l2 A B: relative L2 distance between two model files.
rel_l2() { "$MODEL_DIFF" "$1" "$2" | sed -n 's/^rel_l2 \([^ ]*\) .*/\1/p'; }
bitwise() { [[ $("$MODEL_DIFF" "$1" "$2") == *'bitwise yes'* ]]; }
# same_metrics A B KEY...: two --metrics files have lines, as many, and equal values of every
# KEY in each (timings differ between runs; everything the training computed must not).
same_metrics() {
  python3 -c 'import json, sys
a, b = ([json.loads(l) for l in open(f)] for f in sys.argv[1:3])
same = lambda x, y: all(x.get(k) == y.get(k) for k in sys.argv[3:])
sys.exit(not (a and len(a) == len(b) and all(map(same, a, b))))' "$@"
}

# --- 1. rank-count invariance with dropout and augmentation ------------------------------------
# 50 steps of global batch 100 (shards 33/33/34 at np 3). The dropout mask is keyed by (seed,
# step, global sample, unit) and the augmentation by (seed, epoch, sample), so ranks draw the
# same numbers as one process would; only the float summation order differs (bound 1e-5).
INV=(train --train-samples 6000 --test-samples 500 --layers 64,32 --batch-size 100 --max-steps 50
  --epochs 1 --lr 0.05 --momentum 0.9 --seed 7 --progress off)
for np in 1 3; do
  expect_exit 0 "dropout + augment at np $np: 50 steps" timeout 120 "${MPIRUN[@]}" -np "$np" \
    "$DPMLP" "${INV[@]}" --dropout 0.3 --augment --save-model "inv$np.pb"
done
rel=$(rel_l2 inv1.pb inv3.pb)
check "np 3 vs np 1 with dropout and augmentation: rel L2 $rel <= 1e-5" lt "$rel" 1.0000001e-5
# The bound means something only if both options change the model: drop each in turn.
"$DPMLP" "${INV[@]}" --augment --save-model no_dropout.pb >/dev/null
"$DPMLP" "${INV[@]}" --dropout 0.3 --save-model no_augment.pb >/dev/null
for off in no_dropout no_augment; do
  rel=$(rel_l2 inv1.pb "$off.pb")
  check "without ${off#no_} the model moves (rel L2 $rel > 1e-2)" lt 1e-2 "$rel"
done

# --- 2. bitwise resume with every option on --------------------------------------------------
# 2000 images, ~20% held out for validation: 16 or 17 steps per epoch, 4 epochs. Each option is
# set where it acts: max-norm 1 is below a He-initialised unit's norm (~1.4) and clip-norm 1
# below the early gradient norms, so both bind from the first steps.
ALL=(train --train-samples 2000 --test-samples 500 --layers 64,32 --epochs 4 --batch-size 100
  --lr 0.05 --momentum 0.9 --nesterov --weight-decay 1e-4 --l1 1e-5 --dropout 0.2 --max-norm 1
  --clip-norm 1 --lr-schedule cosine --warmup-epochs 0.5 --augment --val-fraction 0.2
  --early-stop-patience 3 --seed 7 --progress off)
NP=2
expect_exit 0 "every option on, np $NP, uninterrupted" "${MPIRUN[@]}" -np $NP "$DPMLP" "${ALL[@]}" \
  --save-model all_full.pb --metrics all_full.jsonl
expect_exit 0 "every option on, np $NP, stopped at step 37 (epoch 3)" "${MPIRUN[@]}" -np $NP \
  "$DPMLP" "${ALL[@]}" --max-steps 37 --checkpoint-dir all_ck --metrics all_res.jsonl
expect_exit 0 "every option on, np $NP, rerun without --max-steps" "${MPIRUN[@]}" -np $NP \
  "$DPMLP" "${ALL[@]}" --checkpoint-dir all_ck --save-model all_res.pb --metrics all_res.jsonl
check "the rerun resumed from step 37" grep -q "resumed from all_ck/ckpt-0000000037.pb at step 37" last.out
check "resumed model is bitwise equal to the uninterrupted one" bitwise all_full.pb all_res.pb
FIELDS=(epoch step lr train_loss val_loss val_accuracy test_loss test_accuracy)
check "per-epoch metrics (lr, train/val/test loss and accuracy) are identical" \
  same_metrics all_full.jsonl all_res.jsonl "${FIELDS[@]}"
check "and there are 4 epochs of them" test "$(wc -l <all_res.jsonl)" = 4
# Each option changes the result, so the bitwise match covers it (10 steps, one process).
SHORT=("${ALL[@]}" --max-steps 10)
"$DPMLP" "${SHORT[@]}" --save-model short.pb >/dev/null
without() {  # without NAME: the SHORT run with option NAME (and its value, if any) removed
  local out=() skip=0 a
  for a in "${SHORT[@]}"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    if [ "$a" = "$1" ]; then [ "$2" = flag ] || skip=1; continue; fi
    out+=("$a")
  done
  "$DPMLP" "${out[@]}" --save-model "without$1.pb" >/dev/null
  rel=$(rel_l2 short.pb "without$1.pb")
  check "$1 acts in the resume run (without it: rel L2 $rel > 1e-5)" lt 1e-5 "$rel"
}
for opt in --weight-decay --l1 --dropout --max-norm --clip-norm --warmup-epochs; do without $opt value; done
for opt in --nesterov --augment; do without $opt flag; done
# The cosine schedule barely moves in 10 steps; over the 4 epochs it does.
lr2=$(metric all_full.jsonl 2 lr)
lr4=$(metric all_full.jsonl 4 lr)
check "the cosine schedule acts: lr $lr4 after epoch 4 < $lr2 after epoch 2" lt "$lr4" "$lr2"

# --- 3. early stopping stops ---------------------------------------------------------------
# 800 training images and a 256-unit layer overfit within a few epochs: the validation loss
# bottoms out early and rises, so patience 1 must end the run long before --epochs 50.
ES=(train --train-samples 1000 --test-samples 500 --val-fraction 0.2 --normalize scale --layers 256
  --lr 0.05 --momentum 0.9 --epochs 50 --batch-size 50 --seed 1 --progress off)
expect_exit 0 "patience 1" "$DPMLP" "${ES[@]}" --early-stop-patience 1 --checkpoint-dir es1 \
  --save-model es1.pb --metrics es1.jsonl --summary-json es1.json
cp last.out es1.out
epochs=$(wc -l <es1.jsonl)
check "patience 1 stops after $epochs of 50 epochs" test "$epochs" -gt 1 -a "$epochs" -lt 50
check "the log says it stopped early" grep -q "^early stopping: no validation improvement for 1 epochs" es1.out
check "best.pb is kept beside the checkpoints" test -s es1/best.pb
check "the saved model is best.pb" bitwise es1/best.pb es1.pb
# The best epoch is the one with the lowest validation loss, and it is the last but one.
best=$(python3 -c 'import json, sys
v = [json.loads(l)["val_loss"] for l in open(sys.argv[1])]
print(v.index(min(v)) + 1)' es1.jsonl)
check "best epoch $best has the lowest validation loss and is followed by exactly 1 epoch" \
  test "$best" -eq $((epochs - 1))
check "the log keeps the model of epoch $best" grep -q "keeping the model of epoch $best\$" es1.out
want=$(metric es1.jsonl "$best" test_accuracy)
got=$(summary es1.json test_accuracy)
check "final test accuracy $got is the best epoch's ($want)" test -n "$got" -a "$got" = "$want"
check "the summary says it stopped early" test "$(summary es1.json exit_reason)" = early_stopped

# --- 4. resume keeps the early-stopping state ----------------------------------------------
# Patience 2, np 2. Stopped inside the last epoch, one epoch after the last improvement: the
# resumed run must remember the best loss and the epoch without improvement (or it would not
# stop at the same epoch) and the best parameters (or it would save other ones).
P2=("${MPIRUN[@]}" -np 2 "$DPMLP" "${ES[@]}" --early-stop-patience 2)
expect_exit 0 "patience 2, uninterrupted" "${P2[@]}" --save-model es2_full.pb --metrics es2_full.jsonl
last=$(wc -l <es2_full.jsonl)
stop_step=$(metric es2_full.jsonl "$((last - 1))" step)
stop_step=$((stop_step + 5))
expect_exit 0 "patience 2, stopped at step $stop_step (epoch $last)" "${P2[@]}" --checkpoint-dir es2 \
  --max-steps "$stop_step" --metrics es2_res.jsonl
expect_exit 0 "patience 2, resumed" "${P2[@]}" --checkpoint-dir es2 --save-model es2_res.pb \
  --metrics es2_res.jsonl
cp last.out es2.out
check "the resumed run stops at the same epoch ($last), with the same validation losses" \
  same_metrics es2_full.jsonl es2_res.jsonl epoch step val_loss
check "the resumed run's model is bitwise the uninterrupted run's" bitwise es2_full.pb es2_res.pb
# Rerunning the finished command (a requeued job does) must not train past the early stop.
expect_exit 0 "rerun after the early stop" "${P2[@]}" --checkpoint-dir es2 --save-model es2_again.pb \
  --metrics es2_res.jsonl
check "the rerun trains no further epoch" same_metrics es2_full.jsonl es2_res.jsonl epoch step
check "and returns the same model" bitwise es2_full.pb es2_again.pb

finish
