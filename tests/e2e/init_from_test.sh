# End-to-end: fine-tuning with train --init-from FILE. The run starts from the file's parameters
# and input normalisation (a model file or a checkpoint), with zero velocity at step 0; a file of
# another architecture, or a bad file, ends the run with exit 2 naming --init-from, the file and
# the difference, before anything is written; a resumed checkpoint wins over --init-from; and the
# result does not depend on the rank count.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
require_fashion_mnist

# T ARGS: train on 6000 images at global batch 100 (60 steps an epoch), with --layers 32, --seed 4
# and --momentum 0.9 unless ARGS say otherwise; under ${LAUNCH[@]} when set.
LAUNCH=()
T() {
  local a=(train --train-samples 6000 --test-samples 1000 --batch-size 100 --lr 0.05 --progress off)
  [[ " $* " == *" --layers "* ]] || a+=(--layers 32)
  [[ " $* " == *" --seed "* ]] || a+=(--seed 4)
  [[ " $* " == *" --momentum "* ]] || a+=(--momentum 0.9)
  "${LAUNCH[@]}" "$DPMLP" "${a[@]}" "$@"
}
STEPS_PER_EPOCH=60
rel_of() { "$MODEL_DIFF" "$1" "$2" | sed -n 's/^rel_l2 \([^ ]*\) .*/\1/p'; }
bitwise() { "$MODEL_DIFF" "$1" "$2" | grep -q 'bitwise yes'; }

expect_exit 0 "base model: 2 epochs, standardized inputs" T --epochs 2 \
  --save-model base.pb --checkpoint-dir ck-base --checkpoint-every 30
BASE_CKPT=$(ls ck-base/ckpt-*.pb | head -1) # step 30, mid-epoch 1
# Another model of the same architecture, trained on inputs scaled to [0, 1] (another
# normalisation) from another seed.
expect_exit 0 "other model: same architecture, --normalize scale" T --epochs 1 \
  --seed 9 --normalize scale --save-model other.pb

# --- (1) no training: the file's parameters and normalisation come back unchanged ---------------
expect_exit 0 "--init-from base.pb --epochs 0" T --epochs 0 --seed 1 \
  --normalize scale --init-from base.pb --save-model zero.pb
check "  says where it starts" grep -q '^init from base.pb: its parameters and normalisation' last.out
check "  the saved parameters are bitwise base.pb's" bitwise base.pb zero.pb
# --normalize scale was not applied: the same normalisation gives byte-equal predictions.
python3 -c 'import random; r = random.Random(1)
for _ in range(50): print(",".join(str(r.randrange(256)) for _ in range(784)))' >in.csv
"$DPMLP" predict --model base.pb --input in.csv --out base_pred.csv >/dev/null
"$DPMLP" predict --model zero.pb --input in.csv --out zero_pred.csv >/dev/null
check "  and the input normalisation is base.pb's (byte-equal predictions)" \
  cmp base_pred.csv zero_pred.csv
check "  (while other.pb's normalisation predicts otherwise)" \
  bash -c "\"$DPMLP\" predict --model other.pb --input in.csv --out other_pred.csv >/dev/null &&
    ! cmp -s base_pred.csv other_pred.csv"

# --- (2) fine-tuning beats a fresh start in its first epoch ----------------------------------
expect_exit 0 "from scratch: 1 epoch" T --epochs 1 --seed 5 \
  --metrics scratch.jsonl --save-model scratch.pb
expect_exit 0 "fine-tune base.pb: 1 epoch" T --epochs 1 --seed 5 \
  --init-from base.pb --metrics tuned.jsonl --save-model tuned.pb --checkpoint-dir ck-tuned
SCRATCH_LOSS=$(metric scratch.jsonl 1 test_loss)
TUNED_LOSS=$(metric tuned.jsonl 1 test_loss)
check "first-epoch test loss: fine-tuned $TUNED_LOSS < from scratch $SCRATCH_LOSS" \
  lt "$TUNED_LOSS" "$SCRATCH_LOSS"
# A fresh optimizer state: the step count starts at 0, so epoch 1 ends at step 60 (not 180).
check "  epoch 1 ends at step $STEPS_PER_EPOCH (the step count starts at 0)" \
  test "$(metric tuned.jsonl 1 step)" = "$STEPS_PER_EPOCH"
check "  the parameters moved" bash -c "! \"$MODEL_DIFF\" base.pb tuned.pb | grep -q 'bitwise yes'"
check "info --checkpoint shows init_from" \
  grep -q 'init_from: "base.pb"' <("$DPMLP" info --checkpoint "$(ls ck-tuned/ckpt-*.pb | tail -1)")
# Zero velocity at step 0, even from a checkpoint that holds a velocity: the first update
# v = mu v - lr g, w += v is then -lr g whatever mu, so momentum 0.9 and momentum 0 make the very
# same first step.
expect_exit 0 "  one step from the checkpoint, momentum 0.9" T --epochs 1 \
  --max-steps 1 --init-from "$BASE_CKPT" --save-model step_m.pb
expect_exit 0 "  one step from the checkpoint, momentum 0" T --epochs 1 \
  --max-steps 1 --momentum 0 --init-from "$BASE_CKPT" --save-model step_0.pb
check "  the same first step: the velocity starts at zero" bitwise step_m.pb step_0.pb
check "  (and a step was taken)" bash -c "! \"$MODEL_DIFF\" \"$BASE_CKPT\" step_m.pb | grep -q 'bitwise yes'"

# --- (3) from a checkpoint file --------------------------------------------------------------
expect_exit 0 "--init-from a checkpoint, --epochs 0" T --epochs 0 \
  --init-from "$BASE_CKPT" --save-model from_ckpt0.pb
check "  the saved parameters are bitwise the checkpoint's model" bitwise "$BASE_CKPT" from_ckpt0.pb
expect_exit 0 "--init-from a checkpoint, 1 epoch" T --epochs 1 --seed 5 \
  --init-from "$BASE_CKPT" --metrics from_ckpt.jsonl
check "  first-epoch test loss $(metric from_ckpt.jsonl 1 test_loss) < from scratch $SCRATCH_LOSS" \
  lt "$(metric from_ckpt.jsonl 1 test_loss)" "$SCRATCH_LOSS"

# --- (4) another architecture, or a bad file: exit 2, nothing written -----------------------------
refused() {
  local what=$1
  shift
  rm -rf out && mkdir out
  expect_exit 2 "$what" T --epochs 1 --save-model out/m.pb --metrics out/m.jsonl \
    --checkpoint-dir out/ck "$@"
}
refused "wider hidden layer" --layers 64 --init-from base.pb
stderr_names "  wider hidden layer" "--init-from base.pb: layers 784-32-10, but the options build 784-64-10"
check "  nothing written" test -z "$(ls -A out)"
refused "another activation" --activation tanh --init-from base.pb
stderr_names "  another activation" \
  "--init-from base.pb: activation relu, but the options build tanh (--activation)"
check "  nothing written" test -z "$(ls -A out)"
refused "another output kind" --output sigmoid --init-from base.pb
stderr_names "  another output" "--init-from base.pb: " "output softmax, but the options build sigmoid (--output)"
refused "a missing file" --init-from none.pb
stderr_names "  a missing file" "--init-from none.pb: cannot open"
head -c 300 base.pb >cut.pb
refused "a truncated model file" --init-from cut.pb
stderr_names "  a truncated file" "--init-from cut.pb: truncated payload"
check "  nothing written" test -z "$(ls -A out)"
refused "a metrics file" --init-from scratch.jsonl
stderr_names "  not a dpmlp file" "--init-from scratch.jsonl: wrong magic"

# --- resume: the checkpoint wins over --init-from ---------------------------------------------
TUNE=(--epochs 2 --seed 5 --init-from base.pb)
expect_exit 0 "fine-tune 2 epochs uninterrupted" T "${TUNE[@]}" --save-model whole.pb
expect_exit 0 "fine-tune cut at step 90" T "${TUNE[@]}" --max-steps 90 --checkpoint-dir ck-r
# Resumed with another --init-from, of another normalisation: neither its parameters nor its
# normalisation may leak into the resumed run.
expect_exit 0 "resumed, naming another --init-from" T --epochs 2 --seed 5 \
  --init-from other.pb --checkpoint-dir ck-r --save-model resumed.pb
check "  says --init-from is not applied, in one line" \
  test "$(grep -c 'resume: --init-from other.pb not applied' last.out)" = 1
check "  resumed at step 90" grep -q 'resumed from ck-r/ckpt-0000000090.pb at step 90' last.out
check "  ends bitwise where the uninterrupted run ends" bitwise whole.pb resumed.pb

# --- (5) rank count: np 2 matches np 1 ---------------------------------------------------------
LAUNCH=(timeout 300 "${MPIRUN[@]}" -np 2)
expect_exit 0 "fine-tune at np 2" T --epochs 1 --seed 5 --init-from base.pb --save-model tuned_np2.pb
check "  world size 2" grep -q 'world size 2 (open-mpi)' last.out
REL=$(rel_of tuned.pb tuned_np2.pb)
check "  ||theta_np2 - theta_np1|| / ||theta_np1|| = $REL <= 1e-5" lt "$REL" 1.0000001e-5
rm -rf out && mkdir out
expect_exit 2 "a mismatch at np 2: exit 2" T --epochs 1 --layers 16 --init-from base.pb --save-model out/m.pb
stderr_names "  at np 2" "--init-from base.pb: layers 784-32-10, but the options build 784-16-10"
check "  one message" test "$(grep -c 'dpmlp: error' last.err)" = 1

finish
