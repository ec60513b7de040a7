# End-to-end, single process: training reaches stated bounds on `surface` and
# a Fashion-MNIST subset; save -> export gives .npy files equal to the saved parameters;
# save -> eval reproduces the run's test score; `info` counts parameters; bad options and inputs
# exit 2 naming the option or file; failed runs leave no partial output.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
QUIET=(--progress off)

# --- surface: 2-20-1 sigmoid regression -------------------------------------------------------
# The test set is the documented 40 x 40 grid on [-3, 3]^2 of z = sin(x + 0.1 y^2). Predicting
# its mean scores MSE = Var(z), computed here from the formula (not from dpmlp). Requiring
# MSE < Var(z) / 10 means the net explains >= 90% of the variance: 20 sigmoid units fit this
# smooth, roughly one-period surface easily in 20 epochs x 125 steps, while a net that does not
# learn (wrong gradient sign, no update, broken sharding) stays near Var(z).
VAR=$(python3 -c 'import math
g = [-3 + 6 * k / 39 for k in range(40)]
z = [math.sin(x + 0.1 * y * y) for y in g for x in g]
m = sum(z) / len(z)
print(sum((t - m) ** 2 for t in z) / len(z))')
expect_exit 0 "surface 2-20-1 sigmoid, 20 epochs" "$DPMLP" train --dataset surface --layers 20 \
  --activation sigmoid --epochs 20 --batch-size 32 --lr 0.05 --momentum 0.9 --seed 1 "${QUIET[@]}" \
  --metrics surface.jsonl --save-model surface.pb --summary-json surface.json
cp last.out surface.out
MSE=$(summary surface.json test_mse)
check "surface: test MSE $MSE < Var(z)/10 = $(awk -v v="$VAR" 'BEGIN{print v/10}')" \
  lt "$MSE" "$(awk -v v="$VAR" 'BEGIN { print v / 10 }')"
# Learning continues after the first epoch: the final MSE is at most half of epoch 1's.
MSE1=$(metric surface.jsonl 1 test_mse)
check "surface: final MSE $MSE <= epoch-1 MSE $MSE1 / 2" lt "$MSE" "$(awk -v v="$MSE1" 'BEGIN { print v / 2 }')"
check "surface: 20 metrics lines of 4000 samples each" \
  test "$(wc -l <surface.jsonl)" = 20 -a "$(metric surface.jsonl 20 samples)" = 4000
expect_exit 0 "eval the saved surface model" "$DPMLP" eval --model surface.pb --dataset surface
EVAL_MSE=$(sed -n 's/^test mse \([0-9.e+-]*\) .*/\1/p' last.out)
check "surface: eval reproduces the final test MSE ($EVAL_MSE, printed to 4 digits, vs $MSE)" \
  test -n "$MSE" -a "$EVAL_MSE" = "$(awk -v v="$MSE" 'BEGIN { printf "%.4g", v }')"

# --- Fashion-MNIST subset ----------------------------------------------------------------------
# 6000 training images, 3 epochs of a 784-64-32-10 ReLU net. Chance is 10%; a linear classifier
# on the full set reaches ~84% (the data set's published baselines), and an MLP on a tenth of it
# gets most of the way in a few epochs. 75% is far above anything a broken trainer reaches
# (chance, or a single-class guess = 10%) with room for seed and BLAS-order variation.
if [ ! -d "$FMNIST" ]; then
  fail "Fashion-MNIST not installed at $FMNIST (apt-get install dataset-fashion-mnist)"
else
  FM=(--train-samples 6000 --test-samples 2000)
  expect_exit 0 "Fashion-MNIST subset, 3 epochs" "$DPMLP" train "${FM[@]}" --layers 64,32 \
    --epochs 3 --batch-size 64 --lr 0.05 --momentum 0.9 --seed 1 "${QUIET[@]}" \
    --save-model fm.pb --metrics fm.jsonl --summary-json fm.json
  cp last.out fm.out
  ACC=$(awk -v a="$(summary fm.json test_accuracy)" 'BEGIN { if (a != "") printf "%.2f", 100 * a }')
  check "Fashion-MNIST: test accuracy $ACC% >= 75%" lt 74.999 "$ACC"
  check "Fashion-MNIST: train loss falls from epoch 1 to 3" \
    lt "$(metric fm.jsonl 3 train_loss)" "$(metric fm.jsonl 1 train_loss)"
  check "Fashion-MNIST: the summary counts 2000 test samples" test "$(summary fm.json test_samples)" = 2000

  # save -> eval: the same parameters, normalisation and test subset give the same count of
  # correct answers, hence the same accuracy to every printed digit. The loss is a float sum in a
  # different chunking, so it may differ in its last printed digit (the 4th significant one) by
  # one unit at most.
  expect_exit 0 "eval the saved Fashion-MNIST model" "$DPMLP" eval --model fm.pb --test-samples 2000
  EVAL=$(cat last.out)
  EACC=$(sed -n 's/^test accuracy \([0-9.]*\)% .*/\1/p' <<<"$EVAL")
  check "eval reproduces the training run's test accuracy ($EACC% vs $ACC%)" \
    test -n "$ACC" -a "$EACC" = "$ACC"
  LOSS=$(summary fm.json test_loss)
  ELOSS=$(sed -n 's/.*test loss \([0-9.eE+-]*\).*/\1/p' <<<"$EVAL")
  check "eval test loss $ELOSS within one unit of the 4th significant digit of the run's $LOSS" \
    awk -v a="$ELOSS" -v b="$LOSS" 'BEGIN { if (a == "" || b <= 0) exit 1; e = log(b) / log(10)
      f = int(e); if (f > e) f--; u = 1.0001 * exp(log(10) * (f - 3)); d = a - b
      exit !(d <= u && -d <= u) }'

  # save -> export: every .npy holds exactly the saved tensor. The reference is the model file's
  # own protobuf as `info --json` prints it (shortest round-trip decimals of each float32), so
  # the comparison is byte-exact after re-encoding as little-endian float32.
  expect_exit 0 "export the saved model" "$DPMLP" export --model fm.pb --out npy
  "$DPMLP" info --model fm.pb --json >info.json 2>info.err
  check "export: .npy headers, shapes and float32 bytes equal the saved parameters" \
    python3 - info.json npy <<'PY'
import ast, json, os, struct, sys
text = open(sys.argv[1]).read()
model, _ = json.JSONDecoder().raw_decode(text)
out = sys.argv[2]
index = json.load(open(os.path.join(out, "index.json")))
names = [t["name"] for t in model["params"]]
ok = [t["name"] for t in index["tensors"]] == names
if not ok:
    print("index.json tensors", [t["name"] for t in index["tensors"]], "!= model", names)
total = 0
for t in model["params"]:
    shape = tuple(int(d) for d in t["shape"])
    raw = open(os.path.join(out, t["name"] + ".npy"), "rb").read()
    hlen = struct.unpack("<H", raw[8:10])[0]
    header = ast.literal_eval(raw[10:10 + hlen].decode("latin1"))
    data = raw[10 + hlen:]
    want = struct.pack("<%df" % len(t["data"]), *[float(v) for v in t["data"]])
    n = 1
    for d in shape:
        n *= d
    checks = {
        "magic and version 1.0": raw[:8] == b"\x93NUMPY\x01\x00",
        "data 64-byte aligned": (10 + hlen) % 64 == 0,
        "descr <f4": header.get("descr") == "<f4",
        "C order": header.get("fortran_order") is False,
        "shape": header.get("shape") == shape and len(t["data"]) == n,
        "bytes": data == want,
    }
    for what, good in checks.items():
        if not good:
            ok = False
            print(t["name"], "fails:", what, header)
    total += n
# 784*64 + 64 + 64*32 + 32 + 32*10 + 10 = 52650 parameters.
if total != 52650 or index.get("parameters") != 52650:
    ok = False
    print("parameter count", total, index.get("parameters"))
sys.exit(0 if ok else 1)
PY
  expect_exit 0 "info on the saved model" "$DPMLP" info --model fm.pb
  check "info --model prints parameters: 52650" grep -qx "parameters: 52650" last.out
fi

# --- info without a model: 784-16-16-10 = (784*16 + 16) + (16*16 + 16) + (16*10 + 10) = 13002.
expect_exit 0 "info --layers 16,16" "$DPMLP" info --layers 16,16
check "info --layers 16,16 prints 'parameters: 13002'" grep -qx "parameters: 13002" last.out

# --- bad options: exit 2, the message names the option, and no output file appears -----------
S=(--dataset surface --layers 8 --epochs 1 "${QUIET[@]}" --save-model bad.pb --metrics bad.jsonl)
bad_option() {  # bad_option "description" "named text"... -- extra train options
  local what=$1 names=()
  shift
  while [ "$1" != -- ]; do names+=("$1"); shift; done
  shift
  expect_exit 2 "$what" "$DPMLP" train "${S[@]}" "$@"
  stderr_names "$what" "${names[@]}"
  check "$what: no model or metrics file left" test ! -e bad.pb -a ! -e bad.pb.tmp -a ! -e bad.jsonl
}
bad_option "unknown activation" --activation foo -- --activation foo
bad_option "unknown loss" --loss foo -- --loss foo
bad_option "unknown init" --init foo -- --init foo
bad_option "unknown output" --output foo -- --output foo
bad_option "--lr 0" --lr -- --lr 0
bad_option "--lr -1" --lr -- --lr -1
bad_option "--momentum 1" --momentum -- --momentum 1
bad_option "--momentum -0.1" --momentum -- --momentum -0.1
bad_option "--batch-size 0" --batch-size -- --batch-size 0
bad_option "--layers 16,,4" --layers -- --layers 16,,4
bad_option "--layers 0" --layers -- --layers 0
bad_option "--layers 16,0" --layers -- --layers 16,0
bad_option "identity output with cross-entropy" --output --loss -- --output identity --loss cross_entropy
bad_option "unrecognised option" --no-such-option -- --no-such-option
bad_option "a stray word (not ignored)" "unexpected argument 'foo'" -- foo
bad_option "a second value for one option" "unexpected argument '3'" -- --epochs 2 3

# --- bad input files: exit 2 naming the file (and line) ---------------------------------------
printf '0,1,2\n1,2,3\n' >good.csv
printf '0,1,2\n1,2\n0,5,6\n' >ragged.csv
printf '0,1,2\n1,x,3\n' >word.csv
printf '0,1,2\n1,nan,3\n' >nan.csv
: >empty.csv
expect_exit 2 "missing --data-dir" "$DPMLP" train --data-dir "$WORK/no-such-dir" --epochs 1 "${QUIET[@]}"
stderr_names "missing --data-dir" "$WORK/no-such-dir" "no such directory" \
  "Pass --data-dir DIR" "--train-csv/--test-csv" "--dataset sin|surface|parity:N"
expect_exit 2 "ragged training CSV" "$DPMLP" train --train-csv ragged.csv --test-csv good.csv --epochs 1
stderr_names "ragged training CSV" "ragged.csv:2"
expect_exit 2 "ragged test CSV" "$DPMLP" train --train-csv good.csv --test-csv ragged.csv --epochs 1
stderr_names "ragged test CSV" "ragged.csv:2"
expect_exit 2 "non-numeric CSV field" "$DPMLP" train --train-csv word.csv --test-csv good.csv --epochs 1
stderr_names "non-numeric CSV field" "word.csv:2"
expect_exit 2 "NaN in a CSV" "$DPMLP" train --train-csv nan.csv --test-csv good.csv --epochs 1
stderr_names "NaN in a CSV" "nan.csv:2"
expect_exit 2 "empty CSV" "$DPMLP" train --train-csv empty.csv --test-csv good.csv --epochs 1
stderr_names "empty CSV" "empty.csv"
if [ -f surface.pb ]; then
  # One flipped bit in the middle of the payload (caught by the CRC), a cut file, a text file.
  python3 -c 'import sys
b = bytearray(open("surface.pb", "rb").read())
b[len(b) // 2] ^= 0x10
open("flipped.pb", "wb").write(b)
open("cut.pb", "wb").write(b[: len(b) // 3])'
  echo "not a model" >text.pb
  for f in flipped.pb cut.pb text.pb no-such.pb; do
    expect_exit 2 "eval of a corrupt model ($f)" "$DPMLP" eval --model "$f" --dataset surface
    stderr_names "eval of a corrupt model ($f)" "$f"
  done
fi

# --- output failures: exit 4, nothing half-written, earlier files intact -----------------------
T=(--dataset surface --layers 8 --epochs 1 "${QUIET[@]}")
# A folder that does not exist is found at start-up, before any training: a usage error.
expect_exit 2 "--save-model into a missing directory" "$DPMLP" train "${T[@]}" --save-model nodir/m.pb
stderr_names "--save-model into a missing directory" nodir/m.pb
check "nothing at nodir/" test ! -e nodir
# A directory squatting on the temporary name makes the write fail after training; the model
# already at the path must be untouched.
mkdir -p keep/m.pb.tmp
cp surface.pb keep/m.pb
expect_exit 4 "--save-model whose temporary file cannot be created" "$DPMLP" train "${T[@]}" \
  --save-model keep/m.pb
stderr_names "--save-model whose temporary file cannot be created" keep/m.pb
check "the earlier model at the path is byte-identical" cmp -s surface.pb keep/m.pb
# A diverging run (lr 10^6 on an identity output blows up within a few steps) exits 3 before any
# epoch ends: no model and no metrics.
expect_exit 3 "a diverging run" "$DPMLP" train "${T[@]}" --lr 1e6 --save-model div.pb --metrics div.jsonl
check "a diverging run leaves no model or metrics" test ! -e div.pb -a ! -e div.pb.tmp -a ! -e div.jsonl

finish
