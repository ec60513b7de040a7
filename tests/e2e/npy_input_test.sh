# End-to-end: NumPy .npy input. Files written by NumPy itself (Debian's python3-numpy) train the
# same model, bit for bit, as the same data through the IDX and CSV paths, at 1 and 2 ranks; a
# validation pair works; bad files end with exit 2 naming the file and write nothing; and the
# memory-mapped features are shared between the ranks of one host (proportional set size).
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
require_fashion_mnist
PY=/usr/bin/python3 # Debian's python3-numpy belongs to the system interpreter
if ! "$PY" -c 'import numpy' 2>/dev/null; then
  fail "python3-numpy is not installed for $PY (apt-get install python3-numpy)"
  finish
  exit
fi

# Fashion-MNIST from its IDX files into .npy: (N, 28, 28) uint8 images, int64 train labels and
# int32 test labels. A float32 regression set (4 features, 2 targets) as .npy and as CSV, whose
# %.9g text reads back to the same float32 values; a 1-D feature array (N,) with (N,) targets.
"$PY" - "$FMNIST" <<'PYEOF'
import gzip, sys, numpy as np
def idx(path):
    b = gzip.open(path).read()
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(b[3])]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * b[3]).reshape(dims)
d = sys.argv[1]
np.save("Xtr.npy", idx(d + "/train-images-idx3-ubyte.gz"))
np.save("ytr.npy", idx(d + "/train-labels-idx1-ubyte.gz").astype(np.int64))
np.save("Xte.npy", idx(d + "/t10k-images-idx3-ubyte.gz"))
np.save("yte.npy", idx(d + "/t10k-labels-idx1-ubyte.gz").astype(np.int32))
rng = np.random.default_rng(5)
for name, n in (("rtr", 400), ("rte", 100)):
    x = (rng.normal(size=(n, 4)) * [1, 10, 0.1, 3] + [0, 5, -2, 1]).astype(np.float32)
    y = np.stack([x[:, 0] * 0.5 - x[:, 2], np.sin(x[:, 1])], axis=1).astype(np.float32)
    np.save(name + "_x.npy", x)
    np.save(name + "_y.npy", y.astype(np.float64))  # <f8 targets are read as float32
    with open(name + ".csv", "w") as f:
        for yi, xi in zip(y, x):
            f.write(",".join("%.9g" % v for v in list(yi) + list(xi)) + "\n")
    np.save(name + "_x1.npy", x[:, 1].copy())
    np.save(name + "_y1.npy", y[:, 1].copy())
# Bad files: Fortran order, an object array, 4-D features, too few labels, big-endian, float16,
# a negative label, a file cut short, and a text file named .npy.
np.save("fortran.npy", np.asfortranarray(np.zeros((100, 3), np.float32)))
np.save("object.npy", np.array([{"a": 1}] * 100, dtype=object), allow_pickle=True)
np.save("four_d.npy", np.zeros((100, 2, 2, 2), np.uint8))
np.save("short_labels.npy", np.zeros(99, np.int64))
np.save("big_endian.npy", np.zeros((100, 3), ">f4"))
np.save("half.npy", np.zeros((100, 3), np.float16))
np.save("negative.npy", np.full(100, -1, np.int64))
np.save("feat100.npy", np.zeros((100, 3), np.float32))
np.save("labels100.npy", np.arange(100, dtype=np.int64) % 10)
b = open("feat100.npy", "rb").read()
open("truncated.npy", "wb").write(b[:-7])
open("text.npy", "w").write("1,2,3\n")
PYEOF
check "NumPy wrote the inputs" test -s Xtr.npy -a -s rte_y1.npy -a -s truncated.npy

NPY=(--train-npy Xtr.npy --train-labels ytr.npy --test-npy Xte.npy --test-labels yte.npy)
FASHION=(--train-samples 6000 --test-samples 2000 --layers 32 --batch-size 100 --epochs 1
  --seed 4 --progress off)
for np in 1 2; do
  expect_exit 0 "IDX at np=$np: 1 epoch on 6000 images" timeout 120 "${MPIRUN[@]}" -np "$np" \
    "$DPMLP" train "${FASHION[@]}" --save-model "idx$np.pb"
  expect_exit 0 ".npy at np=$np: 1 epoch on the same images" timeout 120 "${MPIRUN[@]}" -np "$np" \
    "$DPMLP" train "${NPY[@]}" "${FASHION[@]}" --save-model "npy$np.pb"
  check ".npy at np=$np: world size $np" grep -q "world size $np (open-mpi)" last.out
  check ".npy at np=$np: the same parameters as from IDX, bit for bit" \
    grep -q 'bitwise yes' <("$MODEL_DIFF" "idx$np.pb" "npy$np.pb")
done

REG=(--csv-targets 2 --layers 8 --batch-size 20 --epochs 2 --seed 2 --progress off)
expect_exit 0 "CSV regression, 2 targets" "$DPMLP" train --train-csv rtr.csv --test-csv rte.csv \
  "${REG[@]}" --save-model csv.pb
expect_exit 0 ".npy regression: float32 features, float64 (N, 2) targets" "$DPMLP" train \
  --train-npy rtr_x.npy --train-labels rtr_y.npy --test-npy rte_x.npy --test-labels rte_y.npy \
  "${REG[@]}" --save-model reg.pb
check ".npy regression: the same parameters as from CSV, bit for bit" \
  grep -q 'bitwise yes' <("$MODEL_DIFF" csv.pb reg.pb)
expect_exit 0 ".npy: 1-D features (N,) and targets (N,)" "$DPMLP" train --train-npy rtr_x1.npy \
  --train-labels rtr_y1.npy --test-npy rte_x1.npy --test-labels rte_y1.npy --layers 8 \
  --epochs 1 --progress off --save-model one.pb
check ".npy 1-D: a 1-input, 1-output model" grep -q '^model 1-8-1 ' last.out

# A validation pair: the test files again, so every epoch's validation loss is its test loss.
expect_exit 0 "--val-npy/--val-labels with early stopping" "$DPMLP" train "${NPY[@]}" \
  --train-samples 6000 --layers 32 --batch-size 100 --epochs 2 --seed 4 --progress off \
  --val-npy Xte.npy --val-labels yte.npy --early-stop-patience 1 --metrics val.jsonl
VAL=$("$PY" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(len(rows), all(abs(r["val_loss"] - r["test_loss"]) <= 1e-9 * abs(r["test_loss"]) for r in rows))' val.jsonl 2>&1)
check "every epoch's val_loss equals its test_loss on the same files ($VAL)" test "$VAL" = "2 True"

# Bad input: exit 2, the file (or option) named, no model written.
bad() {
  local what=$1 name=$2
  shift 2
  expect_exit 2 "$what" "$DPMLP" train "$@" --epochs 1 --progress off --save-model bad.pb
  stderr_names "$what" "$name"
}
bad "Fortran-order features" fortran.npy --train-npy fortran.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "an object array" object.npy --train-npy object.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "4-D features" four_d.npy --train-npy four_d.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "99 labels for 100 samples" short_labels.npy --train-npy feat100.npy \
  --train-labels short_labels.npy --test-npy feat100.npy --test-labels labels100.npy
bad "big-endian features" big_endian.npy --train-npy big_endian.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "float16 features" half.npy --train-npy half.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "a negative class label" negative.npy --train-npy feat100.npy --train-labels negative.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "a file cut short" truncated.npy --train-npy truncated.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "a text file named .npy" text.npy --train-npy text.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "a missing file" nothere.npy --train-npy nothere.npy --train-labels labels100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "test features of another width" Xte.npy --train-npy feat100.npy \
  --train-labels labels100.npy --test-npy Xte.npy --test-labels yte.npy
bad "--train-npy without --train-labels" --train-labels --train-npy feat100.npy \
  --test-npy feat100.npy --test-labels labels100.npy
bad "--train-npy without test files" --test-npy --train-npy feat100.npy \
  --train-labels labels100.npy
bad "--train-npy with --train-csv" --train-csv "${NPY[@]}" --train-csv rtr.csv --test-csv rte.csv
bad "--val-npy with --val-fraction" --val-fraction "${NPY[@]}" --val-npy Xte.npy \
  --val-labels yte.npy --val-fraction 0.1
check "no model written by a refused run" test ! -e bad.pb

# Shared pages: the ranks of one host map one copy of the features. The proportional set size
# (Pss) of a mapping divides each page among the processes mapping it, so with both ranks having
# read the whole file each one's Pss of Xtr.npy is about half its resident size (Rss); a lone
# rank's is all of it. The whole-process Pss per rank is printed for comparison.
# mapping_kb PID FILE FIELD: FIELD (Rss or Pss, kB) summed over PID's mappings of FILE.
mapping_kb() {
  awk -v f="$2" -v k="$3:" '/^[0-9a-f]+-[0-9a-f]+ / { on = (index($0, f) > 0) }
    on && $1 == k { s += $2 } END { print s + 0 }' "/proc/$1/smaps" 2>/dev/null
}
ranks_of() {
  local pid
  for pid in $(pgrep -x dpmlp); do
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$1"* ]] && echo "$pid"
  done
  return 0
}
for np in 1 2; do
  rm -f "pss$np.jsonl"
  "${MPIRUN[@]}" -np "$np" "$DPMLP" train "${NPY[@]}" --layers 32 --batch-size 100 --epochs 100 \
    --seed 4 --progress off --metrics "pss$np.jsonl" >"pss$np.out" 2>&1 &
  launcher=$!
  for _ in $(seq 600); do [ -s "pss$np.jsonl" ] && break; sleep 0.1; done
  mapfile -t pids < <(ranks_of "pss$np.jsonl")
  shares=() totals=()
  for pid in "${pids[@]}"; do
    rss=$(mapping_kb "$pid" "$WORK/Xtr.npy" Rss) pss=$(mapping_kb "$pid" "$WORK/Xtr.npy" Pss)
    shares+=("$(awk -v p="$pss" -v r="$rss" 'BEGIN { printf "%.2f", (r > 0 ? p / r : 0) }')")
    totals+=("$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null)")
    echo "np=$np rank pid $pid: Xtr.npy Rss $rss kB, Pss $pss kB; process Pss ${totals[-1]} kB"
  done
  kill -TERM "$launcher" 2>/dev/null
  wait "$launcher" 2>/dev/null
  check "np=$np: found $np ranks after their first epoch" test "${#pids[@]}" -eq "$np"
  for s in "${shares[@]}"; do
    if [ "$np" = 1 ]; then
      check "np=1: the lone rank's Pss/Rss of Xtr.npy is $s (all its own)" lt 0.95 "$s"
    else
      check "np=2: each rank's Pss/Rss of Xtr.npy is $s (one copy shared by 2)" lt "$s" 0.6
    fi
  done
done
finish
