# End-to-end: `dpmlp inspect` and `dpmlp plot`.
# - After a short 1-60-1 sigmoid run on sin, one inspect command prints the 60 neurons' rows and
#   writes them to --csv; each row's centre and interval length equal -b/w and 8/(k|w|) computed
#   here from the exported weights (not from dpmlp's inspection code); the same command draws the
#   fit PNG.
# - Under mpirun -np 2 the table is the same text and the CSV the same numbers (to float precision).
# - Each plot kind (curves, 1-D fit, 2-D heat maps, 2-D with ablation) makes a valid PNG (every
#   chunk's CRC, IEND last) whose IHDR holds the size its script asked for, with its data files and
#   script beside it.
# - What the figures claim, checked on the data files they are drawn from:
#   the fit's data series is the sin test split (x evenly spaced on [-pi, pi], y = sin x) and its
#   interval rows are the CSV's neurons, sorted by centre and labelled L:U;
#   the surface's truth column is sin(x + 0.1 y^2), its residual truth - output (1e-6), and the
#   colour ranges are [min, max] of truth and output and +-max |residual|;
#   the curves' lr column is the metrics file's lr and the best-epoch marker sits at the epoch of
#   the lowest val_loss (test_loss without validation), as computed here from the JSON lines.
# - After a Fashion-MNIST run, one inspect command prints per-layer effective fractions and draws
#   the training curves.
# - Without gnuplot (DPMLP_GNUPLOT pointing nowhere, or PATH without it): exit 2, the message
#   names gnuplot-nox, the data files are written, the table and CSV too.
# - Bad usage exits 2 naming the option or file.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
QUIET=(--progress off)

# png_size FILE: "WIDTHxHEIGHT" from the IHDR of a well-formed PNG (signature, IHDR first, every
# chunk's CRC right, IEND last), or "not a PNG".
png_size() {
  python3 - "$1" <<'PY'
import struct, sys, zlib
try:
    b = open(sys.argv[1], "rb").read()
except OSError:
    b = b""
ok, at, types = b[:8] == b"\x89PNG\r\n\x1a\n", 8, []
while ok and at + 12 <= len(b):
    n, kind = struct.unpack(">I4s", b[at:at + 8])
    body = b[at + 8:at + 8 + n]
    crc = b[at + 8 + n:at + 12 + n]
    ok = len(body) == n and len(crc) == 4 and zlib.crc32(kind + body) == struct.unpack(">I", crc)[0]
    types.append(kind)
    at += 12 + n
ok = ok and at == len(b) and types[:1] == [b"IHDR"] and types[-1:] == [b"IEND"] and b"IDAT" in types
print("%dx%d" % struct.unpack(">II", b[16:24]) if ok else "not a PNG")
PY
}
# gp_size SCRIPT: "WIDTHxHEIGHT" that the figure's gnuplot script asks pngcairo for.
gp_size() { sed -n 's/^set terminal pngcairo size \([0-9]*\),\([0-9]*\) .*/\1x\2/p' "$1"; }
# png_is FILE WxH "description": a valid PNG of that size and more than a header's worth of bytes.
png_is() {
  local got
  got=$(png_size "$1")
  if [ -n "$2" ] && [ "$got" = "$2" ] && [ "$(stat -c %s "$1")" -gt 1000 ]; then
    pass "$3: $1 is a valid ${got} PNG"
  else
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

# fit_shows_data STEM CSV: STEM.data.dat is the sin test split (500 x evenly spaced on [-pi, pi]
# with both ends, y = sin x); STEM.intervals.dat has the CSV's first-layer neurons, one row each,
# numbered 1.. in order of centre, named L:U, with the CSV's centre; the script labels the rows.
fit_shows_data() {
  python3 - "$1" "$2" <<'PY'
import csv, math, sys
stem, ok = sys.argv[1], True
data = [list(map(float, l.split())) for l in open(stem + ".data.dat") if not l.startswith("#")]
if len(data) != 500:
    ok = False; print("data rows", len(data))
for k, (x, y) in enumerate(data):
    want = -math.pi + 2 * math.pi * k / 499
    if abs(x - want) > 1e-6 or abs(y - math.sin(x)) > 1e-6:
        ok = False; print("data row", k, x, y, "expected", want, math.sin(want)); break
neurons = {(r["layer"], r["unit"]): r for r in csv.DictReader(open(sys.argv[2]))}
first = sorted(((float(r["centre"]), int(r["unit"])) for (l, u), r in neurons.items() if l == "1"))
rows = [l.split() for l in open(stem + ".intervals.dat") if not l.startswith("#")]
if [int(r[0]) for r in rows] != [u for c, u in first] or [int(r[7]) for r in rows] != list(range(1, len(first) + 1)):
    ok = False; print("interval rows are not the CSV's neurons in order of centre")
for r in rows:
    c = float(neurons[("1", r[0])]["centre"])
    if r[10] != "1:" + r[0] or abs(float(r[1]) - c) > 1e-6 * max(1, abs(c)):
        ok = False; print("interval row", r, "CSV centre", c)
gp = open(stem + ".gp").read()
if "ytic(" not in gp or "strcol(11)" not in gp:
    ok = False; print("the script does not label the interval rows")
sys.exit(0 if ok else 1)
PY
}
# surface_claims STEM TRUTH(0|1) ABLATE(0|1): STEM.grid.dat has 121 x 121 points; with TRUTH its
# truth column is sin(x + 0.1 y^2) and its residual truth - output0; with ABLATE its difference is
# ablated - output0 (some non-zero). The script's colour ranges, in panel order: [min, max] of
# truth and output0 for both, +-max |residual|, +-max |difference|.
surface_claims() {
  python3 - "$@" <<'PY'
import math, re, sys
stem, truth, ablate = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
lines = open(stem + ".grid.dat").read().splitlines()
cols = lines[0].lstrip("# ").split()
want = ["x", "y", "output0"] + (["truth", "residual"] if truth else []) + (["output0_ablated", "difference"] if ablate else [])
if cols != want:
    print("columns", cols, "expected", want); sys.exit(1)
rows = [dict(zip(cols, map(float, l.split()))) for l in lines[1:] if l.strip()]
ok, tol = len(rows) == 121 * 121, 1e-6
values = [r["output0"] for r in rows]
if truth:
    values += [r["truth"] for r in rows]
    for r in rows:
        z = math.sin(r["x"] + 0.1 * r["y"] ** 2)
        if abs(r["truth"] - z) > tol or abs(r["residual"] - (r["truth"] - r["output0"])) > tol:
            ok = False; print("grid row", r, "sin(x + 0.1 y^2) =", z); break
ranges = [tuple(map(float, m)) for m in re.findall(r"set cbrange \[([^:]+):([^\]]+)\]", open(stem + ".gp").read())]
expect = [(min(values), max(values))] * (2 if truth else 1)
if truth:
    m = max(abs(r["residual"]) for r in rows); expect.append((-m, m))
if ablate:
    m = max(abs(r["difference"]) for r in rows); expect.append((-m, m))
    ok = ok and m > 0 and all(abs(r["difference"] - (r["output0_ablated"] - r["output0"])) <= tol for r in rows)
close = lambda a, b: abs(a - b) <= 1e-6 * max(1e-12, abs(b))
if len(ranges) != len(expect) or not all(close(a, c) and close(b, d) for (a, b), (c, d) in zip(ranges, expect)):
    ok = False; print("cbranges", ranges, "expected", expect)
sys.exit(0 if ok else 1)
PY
}
# curves_claims STEM JSONL: STEM.metrics.dat's lr column is the JSONL's lr, line by line; the best
# epoch (STEM.best.dat, the script's dashed line and its key entry) is the epoch of the lowest
# val_loss when any line has one, else of the lowest test_loss (the earliest on a tie).
curves_claims() {
  python3 - "$@" <<'PY'
import json, sys
stem, ok = sys.argv[1], True
recs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
lines = open(stem + ".metrics.dat").read().splitlines()
cols = lines[0].lstrip("# ").split()
rows = [l.split() for l in lines[1:]]
if "lr" not in cols or len(rows) != len(recs):
    print("no lr column or", len(rows), "rows for", len(recs), "records"); sys.exit(1)
for r, rec in zip(rows, recs):
    if abs(float(r[cols.index("lr")]) - rec["lr"]) > 1e-8 * rec["lr"] or float(r[0]) != rec["epoch"]:
        ok = False; print("lr row", r, "record", rec)
key = "val_loss" if any("val_loss" in r for r in recs) else "test_loss"
best = min((r for r in recs if key in r), key=lambda r: r[key])  # min keeps the earliest on a tie
got = open(stem + ".best.dat").read().splitlines()[1].split()
if float(got[0]) != best["epoch"] or got[1] != key or abs(float(got[2]) - best[key]) > 1e-8 * best[key]:
    ok = False; print("best.dat", got, "expected epoch", best["epoch"], key, best[key])
gp = open(stem + ".gp").read()
e = "%d" % best["epoch"]
if ("set arrow 1 from %s, graph 0 to %s, graph 1" % (e, e)) not in gp or ("best epoch %s (lowest %s)" % (e, key)) not in gp:
    ok = False; print("the script does not mark epoch", e)
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
png_is fit.png "$(gp_size fit.gp)" "inspect --plot on a 1-D model"
check "fit: data, curve and 60 interval rows beside the PNG, and the script" \
  test -s fit.data.dat -a -s fit.curve.dat -a -s fit.gp -a "$(grep -vc '^#' fit.intervals.dat)" = 60
check "fit: the data drawn are the sin test split; the labelled rows are the CSV's neurons by centre" \
  fit_shows_data fit sin.csv
check "fit: at the default size every one of the 60 rows is labelled" \
  test "$(grep -c 'labelled' fit.gp)" = 0

# --- the same table under mpirun -np 2 ------------------------------------------------------------
expect_exit 0 "inspect sin under mpirun -np 2" "${MPIRUN[@]}" -np 2 "$DPMLP" inspect --model sin.pb \
  --dataset sin --csv sin2.csv
check "np 2 prints the same table as np 1" \
  diff <(grep -v '^wrote' sin.out) <(grep -v '^wrote' last.out)
check "np 2 writes the same CSV as np 1 (states exactly, losses to float precision)" csv_same sin.csv sin2.csv

# --- plot: curves, 1-D fit, 2-D heat map with and without ablation ----------------------------------
expect_exit 0 "plot --metrics" "$DPMLP" plot --metrics sin.jsonl --out curves.png
check "plot prints the size it drew" grep -qxF "wrote curves.png ($(gp_size curves.gp))" last.out
png_is curves.png "$(gp_size curves.gp)" "plot --metrics"
check "curves data: 20 epochs" test "$(grep -vc '^#' curves.metrics.dat)" = 20
check "curves: three panels (loss, MSE, learning rate)" grep -q '^set multiplot layout 1,3 ' curves.gp
check "curves: the lr series is the metrics' lr; the best epoch is the lowest test_loss's" \
  curves_claims curves sin.jsonl
expect_exit 0 "train on sin with a validation split and a cosine schedule" "$DPMLP" train --dataset sin \
  --layers 8 --epochs 6 --batch-size 20 --lr 0.1 --lr-schedule cosine --val-fraction 0.2 --seed 2 \
  "${QUIET[@]}" --metrics val.jsonl
expect_exit 0 "plot --metrics with validation" "$DPMLP" plot --metrics val.jsonl --out val.png
png_is val.png "$(gp_size val.gp)" "plot --metrics with validation"
check "curves: with validation the best epoch is the lowest val_loss's; lr follows the schedule" \
  curves_claims val val.jsonl
expect_exit 0 "plot --metrics --size 640x480" "$DPMLP" plot --metrics sin.jsonl --out small.png --size 640x480
png_is small.png 640x480 "plot --size"
mkdir -p figs
expect_exit 0 "plot --model on a 1-D model" "$DPMLP" plot --model sin.pb --dataset sin --out figs/sin.png
png_is figs/sin.png "$(gp_size figs/sin.gp)" "plot --model (1-D)"
check "plot --model (1-D): the data and the labelled rows" fit_shows_data figs/sin sin.csv
expect_exit 0 "plot --model --size 640x480 on a 1-D model" "$DPMLP" plot --model sin.pb --dataset sin \
  --size 640x480 --out figs/small.png
png_is figs/small.png 640x480 "plot --model --size (1-D)"
check "a small fit labels every k-th row and says so" grep -qE 'every [0-9]+th labelled' figs/small.gp
expect_exit 0 "train 2-12-1 sigmoid on surface" "$DPMLP" train --dataset surface --layers 12 \
  --activation sigmoid --epochs 5 --batch-size 10 --lr 0.05 --momentum 0.9 --seed 1 "${QUIET[@]}" \
  --save-model surf.pb
expect_exit 0 "plot --model on a 2-D model" "$DPMLP" plot --model surf.pb --dataset surface --out surf.png
png_is surf.png "$(gp_size surf.gp)" "plot --model (2-D: truth, fit, residual)"
check "surface: three panels side by side" grep -q '^set multiplot layout 1,3 ' surf.gp
check "surface: truth = sin(x + 0.1 y^2), residual = truth - output, colour ranges from the values" \
  surface_claims surf 1 0
expect_exit 0 "plot --model --ablate 1:3 on a 2-D model" "$DPMLP" plot --model surf.pb --dataset surface \
  --ablate 1:3 --out ablate.png
png_is ablate.png "$(gp_size ablate.gp)" "plot --ablate (truth, fit, residual and difference)"
check "ablation: four panels, 2 x 2" grep -q '^set multiplot layout 2,2 ' ablate.gp
check "ablation grid: residual as above, difference = ablated - output, some non-zero, own range" \
  surface_claims ablate 1 1
expect_exit 0 "train 2-4-2 on parity:2" "$DPMLP" train --dataset parity:2 --layers 4 --epochs 2 \
  --batch-size 2 --seed 1 "${QUIET[@]}" --save-model parity.pb
expect_exit 0 "plot --model on a 2-D model without a known truth" "$DPMLP" plot --model parity.pb \
  --dataset parity:2 --out parity.png
png_is parity.png "$(gp_size parity.gp)" "plot --model (2-D, no truth)"
check "no truth: the output alone, one panel, its colour range from its values" \
  surface_claims parity 0 0

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
  png_is fm-curves.png "$(gp_size fm-curves.gp)" "inspect --curves"
  check "Fashion-MNIST curves: the lr and the best epoch" curves_claims fm-curves fm.jsonl
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
  png_is nog/fit.png "$(gp_size nog/fit.gp)" "the written script draws the figure later"
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
