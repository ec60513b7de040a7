# End-to-end: `export --format onnx` for every hidden activation and every output kind, each file
# passing the ONNX checker (python3-onnx, full_check) and run in a real runtime, onnxruntime-node
# from npm (installed by .ci/setup.sh into <build>/npm, or ONNXRUNTIME_NODE_DIR), and
# `export --format npy` run through docs/export.md's NumPy forward pass; both must match
# `dpmlp predict` on the same raw inputs within 1e-5.
# A missing runtime or checker is a failure, never a skip.
source "$(dirname "$0")/lib.sh" "$@"
ORT=${ONNXRUNTIME_NODE_DIR:-$(cd "$(dirname "$DPMLP")" && pwd)/npm/node_modules/onnxruntime-node}
cd "$WORK" || exit 1
PY=/usr/bin/python3 # Debian's python3-onnx belongs to the system interpreter
TOL=1e-5
if ! command -v node >/dev/null || [ ! -f "$ORT/package.json" ]; then
  fail "onnxruntime-node not found at $ORT (npm install --ignore-scripts --prefix <build>/npm onnxruntime-node; .ci/setup.sh test does it)"
  finish
  exit
fi
if ! "$PY" -c 'import onnx' 2>/dev/null; then
  fail "python3-onnx is not installed for $PY (apt-get install python3-onnx)"
  finish
  exit
fi

# Features on very different scales and offsets, so the normalisation inside the graph matters:
# a classification set (3 classes), a binary one, a 2-target regression set, and prediction
# inputs drawn wider than the training data.
"$PY" - <<'PYEOF'
import random
random.seed(17)
def row(s=1.0):
    x = [random.gauss(0, s) for _ in range(4)]
    return x, [x[0] * 10 + 50, x[1] * 0.1, x[2] * 3 - 7, x[3] * 100]
def fmt(v): return ",".join("%.6g" % t for t in v)
with open("cls3.csv", "w") as c3, open("cls2.csv", "w") as c2, open("reg.csv", "w") as rg:
    for _ in range(240):
        x, f = row()
        c3.write("%d,%s\n" % ((x[0] + x[1] > 0) + (x[2] > 0.5), fmt(f)))
        c2.write("%d,%s\n" % (x[0] * x[3] > 0, fmt(f)))
        rg.write("%s,%s\n" % (fmt([0.1 * x[0] - 0.2 * x[2], 0.1 * x[1] * x[3]]), fmt(f)))
with open("inputs.csv", "w") as inp:
    for _ in range(64):
        inp.write(fmt(row(1.5)[1]) + "\n")
PYEOF

COMMON=(--normalize standardize --layers 6,5 --max-steps 12 --batch-size 16 --lr 0.05 --seed 3
  --progress off)
# name | training options (the data set and the model)
VARIANTS=(
  "sigmoid_k2|--train-csv cls3.csv --test-csv cls3.csv --activation sigmoid --sigmoid-k 2"
  "tanh|--train-csv cls3.csv --test-csv cls3.csv --activation tanh"
  "relu|--train-csv cls3.csv --test-csv cls3.csv --activation relu"
  "leaky_relu|--train-csv cls3.csv --test-csv cls3.csv --activation leaky_relu --alpha 0.2"
  "elu|--train-csv cls3.csv --test-csv cls3.csv --activation elu --alpha 0.7"
  "maxout3|--train-csv cls3.csv --test-csv cls3.csv --activation maxout --maxout-pieces 3"
  "identity|--train-csv cls3.csv --test-csv cls3.csv --activation identity"
  "sigmoid_out1|--train-csv cls2.csv --test-csv cls2.csv --activation tanh --output sigmoid"
  "sigmoid_out3|--train-csv cls3.csv --test-csv cls3.csv --activation relu --output sigmoid"
  "regression|--train-csv reg.csv --test-csv reg.csv --csv-targets 2 --activation elu"
  "sigmoid_mse|--train-csv reg.csv --test-csv reg.csv --csv-targets 2 --output sigmoid --loss mse"
)
JOBS=()
for v in "${VARIANTS[@]}"; do
  name=${v%%|*}
  read -r -a opts <<<"${v#*|}"
  expect_exit 0 "$name: train" "$DPMLP" train "${opts[@]}" "${COMMON[@]}" --save-model "$name.pb"
  expect_exit 0 "$name: export --format onnx" "$DPMLP" export --format onnx --model "$name.pb" \
    --out "$name.onnx"
  expect_exit 0 "$name: predict" "$DPMLP" predict --model "$name.pb" --input inputs.csv \
    --out "$name.predict.csv"
  JOBS+=("$name.onnx=$name.ort.csv")
done
# From a checkpoint: the model inside it, same graph as from the model file of the same run.
expect_exit 0 "checkpoint: train with --checkpoint-dir" "$DPMLP" train --train-csv cls3.csv \
  --test-csv cls3.csv --activation relu "${COMMON[@]}" --checkpoint-dir ck --save-model ck.pb
CKPT=$(find ck -name '*.pb' -type f | sort | tail -1)
expect_exit 0 "checkpoint: export --checkpoint $CKPT" "$DPMLP" export --format onnx \
  --checkpoint "$CKPT" --out ckpt.onnx
expect_exit 0 "checkpoint: predict" "$DPMLP" predict --checkpoint "$CKPT" --input inputs.csv \
  --out ckpt.predict.csv
JOBS+=("ckpt.onnx=ckpt.ort.csv")
VARIANTS+=("ckpt|")

NAMES=()
for v in "${VARIANTS[@]}"; do NAMES+=("${v%%|*}"); done
ONNX_FILES=()
for n in "${NAMES[@]}"; do ONNX_FILES+=("$n.onnx"); done
ONNX_FILES[-1]=ckpt.onnx
# The checker with full_check (strict shape inference), and what the file declares.
expect_exit 0 "onnx.checker full_check on ${#ONNX_FILES[@]} files" "$PY" -c '
import sys, onnx
for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    g = m.graph
    assert m.ir_version == 8 and [(o.domain, o.version) for o in m.opset_import] == [("", 17)], path
    assert m.producer_name == "dpmlp" and m.producer_version, path
    assert [i.name for i in g.input] == ["input"] and [o.name for o in g.output] == ["output"], path
    for v in (g.input[0], g.output[0]):
        assert v.type.tensor_type.shape.dim[0].dim_param == "N", path
print("checked", len(sys.argv) - 1)' "${ONNX_FILES[@]}"
expect_exit 0 "onnxruntime-node runs all ${#JOBS[@]} models" node "$REPO/tests/e2e/onnx_run.js" \
  "$ORT" inputs.csv "${JOBS[@]}"

# The NumPy export: docs/export.md's forward pass, run as written on each `export --format npy`.
sed -n '/<!-- numpy-forward:begin -->/,/<!-- numpy-forward:end -->/p' "$REPO/docs/export.md" |
  sed '/^```\|^<!--/d' >forward.py
check "docs/export.md holds a NumPy forward pass of at most 20 lines" \
  test "$(grep -c . forward.py)" -ge 5 -a "$(grep -c . forward.py)" -le 20
for n in "${NAMES[@]}"; do
  src=(--model "$n.pb")
  [ "$n" = ckpt ] && src=(--checkpoint "$CKPT")
  expect_exit 0 "$n: export --format npy" "$DPMLP" export "${src[@]}" --out "$n.npy.d"
  expect_exit 0 "$n: the documented NumPy forward pass" "$PY" -c '
import csv, sys
exec(open("forward.py").read())
x = [[float(t) for t in r] for r in csv.reader(open("inputs.csv"))]
with open(sys.argv[2], "w") as f:
    csv.writer(f).writerows(forward(sys.argv[1], x).tolist())' "$n.npy.d" "$n.np.csv"
done

# predict prints class,p0..: p1 is the one sigmoid output; more outputs are p0..; regression y0...
for n in "${NAMES[@]}"; do
  for runtime in ort np; do
  DIFF=$("$PY" -c '
import csv, sys
pred = list(csv.reader(open(sys.argv[1])))
ort = [[float(t) for t in r] for r in csv.reader(open(sys.argv[2]))]
head, rows = pred[0], pred[1:]
assert len(rows) == len(ort) == 64, (len(rows), len(ort))
if head[0] == "class":
    cols = [2] if len(ort[0]) == 1 else list(range(1, len(head)))
else:
    cols = list(range(len(head)))
assert len(cols) == len(ort[0]), (head, len(ort[0]))
print("%.3g" % max(abs(float(r[c]) - o[j]) for r, o in zip(rows, ort) for j, c in enumerate(cols)))' \
    "$n.predict.csv" "$n.$runtime.csv" 2>&1)
  label=onnxruntime
  [ "$runtime" = np ] && label=numpy
  check "$n: max |$label - predict| = $DIFF <= $TOL" lt "$DIFF" "$TOL"
  done
done
# The variants differ: a model that ignored its parameters would agree with predict nowhere.
check "the exported graphs differ between variants" test "$(cat ./*.ort.csv | sort -u | wc -l)" -gt 600

# Bad usage: an unknown format and an --out that is a directory exit 2, writing nothing.
expect_exit 2 "export --format tflite" "$DPMLP" export --format tflite --model relu.pb --out x.onnx
stderr_names "unknown format" "--format" "tflite"
mkdir adir
expect_exit 2 "export --format onnx --out a directory" "$DPMLP" export --format onnx \
  --model relu.pb --out adir
check "nothing written for the bad exports" test ! -e x.onnx -a -z "$(ls adir)"
finish
