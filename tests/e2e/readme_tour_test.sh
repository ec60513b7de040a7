# End-to-end: README.md's quick tour runs exactly as written. The block between the
# `<!-- tour:begin -->` and `<!-- tour:end -->` markers is extracted and run by bash -e in a fresh
# directory whose `build` is this build, as a user would run it from the repository's root. Then
# what the tour's comments claim is checked from machine-readable output, and the model of the
# tour's first command, exported to ONNX by the tour, scores the same in onnxruntime-node as
# `dpmlp predict` on the whole Fashion-MNIST test set. The cluster section's signal lead time is
# the one train.sbatch asks Slurm for.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
require_fashion_mnist
PY=/usr/bin/python3

# --- the block, as written -----------------------------------------------------------------------
awk '/<!-- tour:end -->/ { on = 0 } on && !/^```/ { print } /<!-- tour:begin -->/ { on = 1 }' \
  "$REPO/README.md" >tour.sh
check "README.md has a quick-tour block of commands ($(grep -c . tour.sh) lines)" \
  test "$(grep -c '^dpmlp\|^mpirun' tour.sh)" -ge 8
mkdir tour
ln -s "$(cd "$(dirname "$DPMLP")" && pwd)" tour/build
# The tour's own lines set PATH and the Open MPI variables: take lib.sh's away so that they count.
expect_exit 0 "the quick tour runs as written (bash -e, fresh directory)" \
  env -u OMPI_ALLOW_RUN_AS_ROOT -u OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
  bash -c 'cd tour && exec bash -eo pipefail ../tour.sh'
cp last.out tour.out
cp last.err tour.err
[ "$FAILED" -eq 0 ] || { tail -n 20 tour.err; finish; exit; }

# --- what the comments claim ---------------------------------------------------------------------
T=tour
check "train --save-model wrote fm.pb" test -s $T/fm.pb
check "the two-rank run left its last checkpoint at step 938 (2 epochs of 469 batches)" \
  test -s $T/runs/ckpt-0000000938.pb
STEP=$("$DPMLP" info --checkpoint $T/runs/ckpt-0000000938.pb --json |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["position"]["step"])' 2>&1)
check "info --checkpoint --json on it parses and says step 938 ($STEP)" test "$STEP" = 938
check "predict wrote a header and one prediction per line of in.csv" \
  test "$(wc -l <$T/out.csv)" -eq $(($(wc -l <$T/in.csv) + 1))
check "export wrote weights/index.json and the layer files" \
  test -s $T/weights/index.json -a -s $T/weights/layer1.weight.npy
PARAMS=$("$DPMLP" info --layers 16,16 --json | "$PY" -c 'import json, sys
print(json.load(sys.stdin)["parameters"])' 2>&1)
check "info --layers 16,16: 13002 parameters ($PARAMS)" test "$PARAMS" = 13002

# --- the tour's ONNX file scores as predict does -------------------------------------------------
ORT=${ONNXRUNTIME_NODE_DIR:-$(cd "$(dirname "$DPMLP")" && pwd)/npm/node_modules/onnxruntime-node}
if [ ! -f "$ORT/package.json" ]; then
  fail "onnxruntime-node not found at $ORT (.ci/setup.sh test installs it)"
  finish
  exit
fi
"$PY" - "$FMNIST" <<'PYEOF'
import gzip, sys
d = sys.argv[1]
def idx(name):
    b = gzip.open(d + "/" + name).read()
    return b, 4 + 4 * b[3]
img, off = idx("t10k-images-idx3-ubyte.gz")
lab, loff = idx("t10k-labels-idx1-ubyte.gz")
with open("x.csv", "w") as f:
    for i in range(10000):
        f.write(",".join(map(str, img[off + 784 * i:off + 784 * (i + 1)])) + "\n")
open("y.txt", "w").write("\n".join(str(v) for v in lab[loff:loff + 10000]) + "\n")
PYEOF
expect_exit 0 "predict on the 10000 test images (raw pixels)" "$DPMLP" predict --model $T/fm.pb \
  --input x.csv --out p.csv
expect_exit 0 "onnxruntime-node runs the tour's fm.onnx on them" node "$REPO/tests/e2e/onnx_run.js" \
  "$ORT" x.csv "$T/fm.onnx=o.csv"
SCORES=$("$PY" - <<'PYEOF' 2>&1
labels = [int(v) for v in open("y.txt")]
pred = [l.split(",") for l in open("p.csv").read().split("\n")[1:] if l]
onnx = [[float(v) for v in l.split(",")] for l in open("o.csv") if l.strip()]
assert len(pred) == len(onnx) == len(labels) == 10000
acc_p = sum(int(p[0]) == y for p, y in zip(pred, labels))
acc_o = sum(max(range(len(o)), key=o.__getitem__) == y for o, y in zip(onnx, labels))
diff = max(abs(float(a) - b) for p, o in zip(pred, onnx) for a, b in zip(p[1:], o))
print(acc_p, acc_o, "%.3g" % diff)
PYEOF
)
read -r ACC_P ACC_O DIFF <<<"$SCORES"
check "the ONNX model's test accuracy equals predict's ($ACC_O and $ACC_P of 10000 correct)" \
  test -n "$ACC_P" -a "$ACC_P" = "$ACC_O"
check "ONNX probabilities match predict's within 1e-5 (max |diff| $DIFF)" lt "$DIFF" 1e-5

# --- the cluster section -------------------------------------------------------------------------
LEAD=$(sed -n 's/^#SBATCH --signal=B:USR1@\([0-9]*\).*/\1/p' "$REPO/cluster/slurm/train.sbatch")
check "README states train.sbatch's signal lead time (--signal=B:USR1@$LEAD)" \
  grep -qF -- "SIGUSR1 $LEAD s before the time limit (\`--signal=B:USR1@$LEAD\`)" "$REPO/README.md"
finish
