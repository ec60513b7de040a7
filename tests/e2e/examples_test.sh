#!/usr/bin/env bash
# The demonstrations of examples/: each configuration runs from the line
# examples/README.md gives for it and meets the bound stated there. The bounds come from the
# problems (variance of the target, chance level, a linear classifier), not from past runs.
# fashion-best is only parsed and run for a few steps: its full run takes about 2 minutes.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
EX=$REPO/examples

# example NAME ARGS...: checks that examples/README.md shows `dpmlp train ARGS` (with the
# config path relative to the repository; a trailing `--seed N` appears there as `--seed S`),
# then runs it with the config taken from $EX; the log goes to NAME.out and the per-epoch metrics
# to NAME.jsonl.
example() {
  local name=$1
  shift
  local shown="$*"
  shown=${shown/%--seed [0-9]/--seed S}
  check "examples/README.md shows: dpmlp train $shown" grep -qF -- "dpmlp train $shown" "$EX/README.md"
  local args=("${@/#examples\//$EX/}")
  expect_exit 0 "$name runs" timeout 120 "$DPMLP" train "${args[@]}" --progress off --metrics "$name.jsonl"
  cp last.out "$name.out"
}
# last_metric NAME KEY: KEY of the last epoch of NAME's metrics.
last_metric() { metric "$1.jsonl" "$(wc -l <"$1.jsonl")" "$2"; }

# Every demonstration runs with three seeds (initialisation and sample order; the synthetic data
# sets are drawn from it too) and must meet its bound with room to spare for each: 3 points for
# the parity accuracies, a factor of 2 for the MSE bounds. A demonstration that holds for one
# seed only is luck.
SEEDS=(1 2 3)

# --- sin: 1-60-1 sigmoid, k = 1 and k = 10 -----------------------------------------------------
# sin x on [-pi, pi] has variance 1/2: MSE < 0.005 means 99% of it is explained.
for s in "${SEEDS[@]}"; do
  example "sin1_$s" --config examples/sin.ini --seed "$s"
  example "sin10_$s" --config examples/sin.ini --sigmoid-k 10 --seed "$s"
  mse1=$(last_metric "sin1_$s" test_mse)
  mse10=$(last_metric "sin10_$s" test_mse)
  check "sin, k = 1, seed $s: test MSE $mse1 < 0.0025 (half the bound 0.005)" lt "$mse1" 0.0025
  check "sin, k = 10, seed $s: test MSE $mse10 < 0.0025" lt "$mse10" 0.0025
  check "sin, seed $s: the steep k = 10 neurons fit better than k = 1 by a factor > 2 ($mse10 vs $mse1)" \
    lt "$(awk -v a="$mse10" 'BEGIN { print 2 * a }')" "$mse1"
done

# --- surface: 2-20-1 sigmoid, z = sin(x + 0.1 y^2) ---------------------------------------------
# z has variance 0.507 on the 40 x 40 test grid: MSE < 0.01 is under 2% of it.
for s in "${SEEDS[@]}"; do
  example "surface_$s" --config examples/surface.ini --seed "$s"
  mse=$(last_metric "surface_$s" test_mse)
  check "surface, seed $s: test MSE $mse < 0.005 (half the bound 0.01)" lt "$mse" 0.005
done

# --- parity: deep narrow vs one hidden layer, ~306 parameters each ------------------------------
# 256 patterns, two balanced classes: a constant output scores 50%.
for s in "${SEEDS[@]}"; do
  example "parity_$s" --config examples/parity.ini --seed "$s"
  example "parity_shallow_$s" --config examples/parity-shallow.ini --seed "$s"
  deep=$(last_metric "parity_$s" test_accuracy)
  shallow=$(last_metric "parity_shallow_$s" test_accuracy)
  check "parity, 8-8-8-8-8-2, seed $s: accuracy $deep >= 0.93 (bound 0.90 + 3 points)" \
    lt 0.9299999 "$deep"
  check "parity, 8-28-2, seed $s: accuracy $shallow <= 0.57 (bound 0.60 - 3 points)" \
    lt "$shallow" 0.5700001
done
check "parity: the two networks have about the same size" \
  test "$("$DPMLP" info --dataset parity:8 --layers 8,8,8,8 | sed -n 's/^parameters: //p')" = 306 \
  -a "$("$DPMLP" info --dataset parity:8 --layers 28 | sed -n 's/^parameters: //p')" = 310

# --- fashion-784-16-16-10: the material's 13002-parameter network -------------------------------
# The Fashion-MNIST benchmark's linear classifiers (logistic regression, linear SVC) score about
# 84%; two hidden layers must beat them.
example fashion16 --config examples/fashion-784-16-16-10.ini
check "784-16-16-10 has 13002 parameters" grep -q "parameters: 13002" fashion16.out
acc=$(last_metric fashion16 test_accuracy)
check "fashion 784-16-16-10: test accuracy $acc >= 0.84" lt 0.8399999 "$acc"

# --- fashion-best: the README command parses and trains at np 2 (20 steps) -----------------------
check "examples/README.md shows the fashion-best command" \
  grep -qF "mpirun -np 2 build/dpmlp train --config examples/fashion-best.ini" "$EX/README.md"
expect_exit 0 "fashion-best: 20 steps at np 2" timeout 120 "${MPIRUN[@]}" -np 2 "$DPMLP" train \
  --config "$EX/fashion-best.ini" --max-steps 20 --test-samples 1000 --progress off \
  --summary-json fb20.json
check "fashion-best: the config's network is built" \
  grep -q "^model 784-$(sed -n 's/^layers *= *//p' "$EX/fashion-best.ini" | tr , -)-10 " last.out
check "fashion-best: 20 steps with a finite loss" python3 -c 'import json, math, sys
s = json.load(open(sys.argv[1]))
sys.exit(not (int(s["steps"]) == 20 and s["exit_reason"] == "max_steps" and math.isfinite(s["test_loss"])))' fb20.json

# --- fashion-best.sh: its arithmetic on a short run ---------------------------------------------
# Two seeds of 2 epochs on 2000 images cannot reach the targets: the script must say so (exit 1)
# and report each seed's accuracy as the metrics file has it and the mean of the two.
expect_exit 1 "fashion-best.sh, 2 seeds of a short run, misses the targets" env SEEDS="1 2" DPMLP="$DPMLP" \
  bash "$EX/fashion-best.sh" --train-samples 2000 --test-samples 500 --epochs 2 --average-epochs 1
dir=$(sed -n 's/.*; metrics in \(.*\)$/\1/p' last.out)
want=$(python3 -c 'import json, sys
acc = [100 * json.loads(open(f).read().splitlines()[-1])["avg_test_accuracy"] for f in sys.argv[1:]]
print(" ".join("%.2f" % a for a in acc), "%.2f" % (sum(round(a, 2) for a in acc) / len(acc)))' \
  "$dir/seed1.jsonl" "$dir/seed2.jsonl")
got="$(sed -n 's/^fashion-best: seed [12]: test accuracy \([0-9.]*\)%.*/\1/p' last.out | tr '\n' ' ')$(
  sed -n 's/^fashion-best: mean test accuracy over seeds 1 2: \([0-9.]*\)%.*/\1/p' last.out)"
check "fashion-best.sh reports the averaged models' accuracies and their mean ($got)" test "$got" = "$want"
rm -rf "$dir"

finish
