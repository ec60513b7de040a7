# End-to-end (issue 7 items 1, 2, 4, 5): `dpmlp inspect` and `dpmlp plot`.
# - After a short 1-60-1 sigmoid run on sin, one inspect command prints the 60 neurons' rows and
#   writes them to --csv; each row's centre and interval length equal -b/w and 8/(k|w|) computed
#   here from the exported weights (not from dpmlp's inspection code); the same command draws the
#   fit PNG.
# - Under mpirun -np 2 the table is the same text and the CSV the same numbers (to float precision).
# - Each plot kind (curves, 1-D fit, 2-D heat map, 2-D with ablation) makes a PNG whose IHDR holds
#   the expected pixel size, with its data files and script beside it.
# - After a Fashion-MNIST run, one inspect command prints per-layer effective fractions and draws
#   the training curves.
# - Without gnuplot (DPMLP_GNUPLOT pointing nowhere, or PATH without it): exit 2, the message
#   names gnuplot-nox, the data files are written, the table and CSV too.
# - Bad usage exits 2 naming the option or file.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
QUIET=(--progress off)

# png_size FILE: "WIDTHxHEIGHT" from the PNG signature and IHDR chunk, or "not a PNG".
png_size() {
  python3 - "$1" <<'PY'
import struct, sys
try:
    b = open(sys.argv[1], "rb").read(24)
except OSError:
    b = b""
if len(b) == 24 and b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR":
    print("%dx%d" % struct.unpack(">II", b[16:24]))
else:
    print("not a PNG")
PY
}
# png_is FILE WxH "description": a PNG of that size and more than a header's worth of bytes.
png_is() {
  local got
  got=$(png_size "$1")
  if [ "$got" = "$2" ] && [ "$(stat -c %s "$1")" -gt 1000 ]; then pass "$3: $1 is a ${got} PNG"; else
    fail "$3: $1 is '$got' ($(stat -c %s "$1" 2>/dev/null || echo no) bytes), expected a $2 PNG"
  fi
}
# csv_same A B: same neurons, states and region fractions; losses within 1e-6 of the loss scale.
csv_same() {
  python3 - "$1" "$2" <<'PY'
import csv, sys
a = list(csv.DictReader(open(sys.argv[1])))
b = list(csv.DictReader(open(sys.argv[2])))
ok = len(a) == len(b) > 0
scale = max([1.0] + [abs(float(r["loss_ablated"])) for r in a])
for x, y in zip(a, b):
    for k in ("layer", "unit", "state", "in_region", "centre", "interval_lo", "interval_hi"):
        if x[k] != y[k]:
            ok = False; print("differ", x["layer"], x["unit"], k, x[k], y[k])
    for k in ("loss_ablated", "delta_loss", "mse_ablated", "delta_mse"):
        if abs(float(x[k]) - float(y[k])) > 1e-6 * scale:
            ok = False; print("differ", x["layer"], x["unit"], k, x[k], y[k])
sys.exit(0 if ok else 1)
PY
}

# --- sin: 1-60-1 sigmoid with k = 10 --------------------------------------------------------------
K=10
expect_exit 0 "train 1-60-1 sigmoid on sin" "$DPMLP" train --dataset sin --layers 60 --activation sigmoid \
  --sigmoid-k $K --epochs 20 --batch-size 10 --lr 0.05 --momentum 0.9 --seed 1 "${QUIET[@]}" \
  --save-model sin.pb --metrics sin.jsonl
expect_exit 0 "inspect sin: table, CSV and fit PNG in one command" "$DPMLP" inspect --model sin.pb \
  --dataset sin --csv sin.csv --plot fit.png
cp last.out sin.out
check "inspect prints 60 neuron rows 1:0 .. 1:59" \
  test "$(grep -E '^1:[0-9]+ ' sin.out | awk '{print $1}' | sort -t: -k2 -n | tr '\n' ' ')" = \
  "$(seq 0 59 | sed 's/^/1:/' | tr '\n' ' ')"
check "inspect names the effective region |k z| < 4" grep -qF '|k z| < 4' sin.out
check "inspect prints the per-layer line: layer 1, 60 neurons, effective count" \
  grep -qE '^ +1 +60 +[0-9]+ \(' sin.out
check "inspect lists the most and least important neurons" \
  grep -q '^most important' sin.out
check "CSV: a header and 60 rows" test "$(wc -l <sin.csv)" = 61
expect_exit 0 "export the sin model" "$DPMLP" export --model sin.pb --out npy
check "CSV centre = -b/w and interval length = 8/(k|w|) from the exported weights" \
  python3 - sin.csv npy $K <<'PY'
import csv, struct, sys
def npy(path):
    raw = open(path, "rb").read()
    hlen = struct.unpack("<H", raw[8:10])[0]
    data = raw[10 + hlen:]
    return struct.unpack("<%df" % (len(data) // 4), data)
w, b, k = npy(sys.argv[2] + "/layer1.weight.npy"), npy(sys.argv[2] + "/layer1.bias.npy"), float(sys.argv[3])
rows = list(csv.DictReader(open(sys.argv[1])))
ok = len(rows) == 60 == len(w)
for r in rows:
    u = int(r["unit"])
    centre, length = -b[u] / w[u], 8 / (k * abs(w[u]))
    lo, hi = float(r["interval_lo"]), float(r["interval_hi"])
    good = (r["layer"] == "1" and abs(float(r["centre"]) - centre) <= 1e-6 * max(1, abs(centre))
            and abs(float(r["interval_length"]) - length) <= 1e-6 * length
            and abs((lo + hi) / 2 - centre) <= 1e-6 * max(1, abs(centre)))
    if not good:
        ok = False
        print("unit", u, r, "expected centre", centre, "length", length)
sys.exit(0 if ok else 1)
PY
png_is fit.png 1000x750 "inspect --plot on a 1-D model"
check "fit: data, curve and 60 interval rows beside the PNG, and the script" \
  test -s fit.data.dat -a -s fit.curve.dat -a -s fit.gp -a "$(grep -vc '^#' fit.intervals.dat)" = 60

# --- the same table under mpirun -np 2 ------------------------------------------------------------
expect_exit 0 "inspect sin under mpirun -np 2" "${MPIRUN[@]}" -np 2 "$DPMLP" inspect --model sin.pb \
  --dataset sin --csv sin2.csv
check "np 2 prints the same table as np 1" \
  diff <(grep -v '^wrote' sin.out) <(grep -v '^wrote' last.out)
check "np 2 writes the same CSV as np 1 (states exactly, losses to float precision)" csv_same sin.csv sin2.csv

# --- plot: curves, 1-D fit, 2-D heat map with and without ablation ----------------------------------
expect_exit 0 "plot --metrics" "$DPMLP" plot --metrics sin.jsonl --out curves.png
png_is curves.png 1200x500 "plot --metrics"
check "curves data: 20 epochs" test "$(grep -vc '^#' curves.metrics.dat)" = 20
expect_exit 0 "plot --metrics --size 640x480" "$DPMLP" plot --metrics sin.jsonl --out small.png --size 640x480
png_is small.png 640x480 "plot --size"
mkdir -p figs
expect_exit 0 "plot --model on a 1-D model" "$DPMLP" plot --model sin.pb --dataset sin --out figs/sin.png
png_is figs/sin.png 1000x750 "plot --model (1-D)"
expect_exit 0 "train 2-12-1 sigmoid on surface" "$DPMLP" train --dataset surface --layers 12 \
  --activation sigmoid --epochs 5 --batch-size 10 --lr 0.05 --momentum 0.9 --seed 1 "${QUIET[@]}" \
  --save-model surf.pb
expect_exit 0 "plot --model on a 2-D model" "$DPMLP" plot --model surf.pb --dataset surface --out surf.png
png_is surf.png 750x650 "plot --model (2-D heat map)"
expect_exit 0 "plot --model --ablate 1:3 on a 2-D model" "$DPMLP" plot --model surf.pb --dataset surface \
  --ablate 1:3 --out ablate.png
png_is ablate.png 1400x650 "plot --ablate (surface and difference)"
check "ablation grid: 121 x 121 points of x y output ablated difference, some difference non-zero" \
  awk 'NF == 5 { n++; if ($5 != 0) d++ } END { exit !(n == 121 * 121 && d > 0) }' ablate.grid.dat

# --- Fashion-MNIST: per-layer effective fractions and the curves in one command -------------------
if [ ! -d "$FMNIST" ]; then
  fail "Fashion-MNIST not installed at $FMNIST (apt-get install dataset-fashion-mnist)"
else
  expect_exit 0 "train 784-32-16-10 on a Fashion-MNIST subset" "$DPMLP" train --train-samples 3000 \
    --test-samples 1000 --layers 32,16 --epochs 3 --batch-size 64 --lr 0.05 --seed 1 "${QUIET[@]}" \
    --save-model fm.pb --metrics fm.jsonl
  expect_exit 0 "inspect Fashion-MNIST with --curves" "$DPMLP" inspect --model fm.pb --test-samples 1000 \
    --metrics fm.jsonl --curves fm-curves.png --csv fm.csv
  check "per-layer lines for hidden layers 1 (32) and 2 (16) with effective fractions" \
    test "$(grep -cE '^ +(1 +32|2 +16) +[0-9]+ \([0-9.]+%\)' last.out)" = 2
  check "accuracy changes are listed for the most important neurons" grep -q 'd_acc' last.out
  check "Fashion-MNIST CSV: 48 neurons" test "$(wc -l <fm.csv)" = 49
  png_is fm-curves.png 1200x500 "inspect --curves"
  expect_exit 2 "--plot on a 784-input model" "$DPMLP" inspect --model fm.pb --test-samples 100 --plot x.png
  stderr_names "--plot on a 784-input model" --plot 784
fi

# --- without gnuplot ------------------------------------------------------------------------------
mkdir -p nog
expect_exit 2 "plot with DPMLP_GNUPLOT=/nonexistent" env DPMLP_GNUPLOT=/nonexistent "$DPMLP" plot \
  --model sin.pb --dataset sin --out nog/fit.png
stderr_names "missing gnuplot" gnuplot-nox DPMLP_GNUPLOT nog/fit.gp
check "without gnuplot the data files and script are written, and no PNG" \
  test -s nog/fit.data.dat -a -s nog/fit.curve.dat -a -s nog/fit.intervals.dat -a -s nog/fit.gp -a ! -e nog/fit.png
expect_exit 2 "inspect --plot --curves with PATH lacking gnuplot" env PATH=/nonexistent "$DPMLP" inspect \
  --model sin.pb --dataset sin --csv nog/sin.csv --plot nog/fit2.png --metrics sin.jsonl --curves nog/c.png
stderr_names "missing gnuplot (PATH)" gnuplot-nox
check "without gnuplot inspect still prints the table and writes the CSV and both figures' data" \
  test "$(grep -cE '^1:[0-9]+ ' last.out)" = 60 -a -s nog/sin.csv -a -s nog/fit2.intervals.dat -a -s nog/c.metrics.dat
if command -v gnuplot >/dev/null; then
  (cd nog && gnuplot fit.gp)
  png_is nog/fit.png 1000x750 "the written script draws the figure later"
fi

# --- bad usage ------------------------------------------------------------------------------------
expect_exit 2 "--ablate on a 1-D model" "$DPMLP" plot --model sin.pb --dataset sin --ablate 1:0 --out x.png
stderr_names "--ablate on a 1-D model" --ablate
expect_exit 2 "--ablate naming no neuron" "$DPMLP" plot --model surf.pb --dataset surface --ablate 1:12 --out x.png
stderr_names "--ablate 1:12" "--ablate 1:12" "0..11"
expect_exit 2 "--split bogus" "$DPMLP" inspect --model sin.pb --dataset sin --split bogus
stderr_names "--split bogus" --split
expect_exit 2 "inspect with data of the wrong width" "$DPMLP" inspect --model sin.pb --dataset surface
stderr_names "wrong data width" "surface" "2 inputs"
printf '{"epoch":1,"train_loss":0.5}\n{"epoch":2,"train_loss":\n' >broken.jsonl
expect_exit 2 "a broken metrics file" "$DPMLP" plot --metrics broken.jsonl --out x.png
stderr_names "broken metrics" "broken.jsonl:2"
expect_exit 2 "--model and --checkpoint together" "$DPMLP" inspect --model sin.pb --dataset sin --checkpoint sin.pb
stderr_names "--model and --checkpoint together" "--checkpoint"
check "no PNG from failed commands" test ! -e x.png

finish
