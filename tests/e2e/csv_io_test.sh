# End-to-end: CSV files as people have them. --csv-header skips a checked header row (train,
# eval, predict give bit for bit what the same files without it give), a bad header ends the run
# with exit 2 naming file and line and nothing written, and "-" is standard input for predict's
# --input and standard output for predict's and the ONNX export's --out: a pipe gives byte for byte
# what the files give, with nothing else on standard output.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1

# A 3-class set of 4 features (classes by the sign pattern of two noisy sums) and a regression set
# (2 targets, 3 features), each as train and test CSV, plain and with a header row.
python3 - <<'PYEOF'
import math, random
rnd = random.Random(3)
def cls_rows(n):
    rows = []
    for _ in range(n):
        x = [rnd.gauss(0, 1) * s + m for s, m in ((1, 0), (4, 2), (0.5, -1), (2, 0))]
        a, b = x[0] + 0.3 * x[1] - 0.6, x[2] + 1 - 0.2 * x[3]
        rows.append([0 if a < 0 else (1 if b < 0 else 2)] + x)
    return rows
def reg_rows(n):
    rows = []
    for _ in range(n):
        x = [rnd.uniform(-2, 2) for _ in range(3)]
        rows.append([math.sin(x[0]) + 0.5 * x[1], x[1] * x[2]] + x)
    return rows
def write(name, rows, header=None):
    with open(name, "w") as f:
        if header:
            f.write(header + "\r\n")
        for r in rows:
            f.write(",".join("%.9g" % v for v in r) + "\n")
sets = {"c": (cls_rows, 'label,"sepal, length",x2,x3,x4', "label,a,b,c,d"),
        "r": (reg_rows, "y1,y2,a,b,c", "t1,t2,u,v,w")}
for name, (make, train_header, test_header) in sets.items():
    train, test = make(600), make(200)
    write(name + "_tr.csv", train)
    write(name + "_te.csv", test)
    write(name + "_tr_h.csv", train, train_header)
    write(name + "_te_h.csv", test, test_header)
    # predict's inputs: the test features without the label or target columns
    lead = 1 if name == "c" else 2
    write(name + "_in.csv", [r[lead:] for r in test])
    write(name + "_in_h.csv", [r[lead:] for r in test], ",".join("f%d" % i for i in range(len(test[0]) - lead)))
# Bad headers: one name too few, an empty name, numbers only; pandas' 0..n-1 names are accepted.
rows = cls_rows(50)
write("narrow_h.csv", rows, "label,a,b,c")
write("empty_name_h.csv", rows, "label,a,,c,d")
write("numbers_h.csv", rows, "1,0.5,2,3,4")
write("pandas_h.csv", rows, "0,1,2,3,4")
write("pandas_plain.csv", rows)
write("predict_narrow_h.csv", [r[1:] for r in rows], "a,b,c")
PYEOF

TRAIN=(train --layers 8 --epochs 2 --batch-size 32 --lr 0.05 --seed 1 --progress off)
C_PLAIN=(--train-csv c_tr.csv --test-csv c_te.csv)
C_HEAD=(--train-csv c_tr_h.csv --test-csv c_te_h.csv --csv-header)
R_PLAIN=(--train-csv r_tr.csv --test-csv r_te.csv --csv-targets 2)
R_HEAD=(--train-csv r_tr_h.csv --test-csv r_te_h.csv --csv-targets 2 --csv-header)
final_of() { grep '^final: ' "$1"; }

# --- the header is skipped: the same models, metrics, evaluations and predictions --------------
for kind in c r; do
  if [ $kind = c ]; then plain=("${C_PLAIN[@]}") head=("${C_HEAD[@]}"); else
    plain=("${R_PLAIN[@]}") head=("${R_HEAD[@]}"); fi
  expect_exit 0 "$kind: train on the plain CSVs" "$DPMLP" "${TRAIN[@]}" "${plain[@]}" \
    --save-model "$kind.pb" --metrics "$kind.jsonl"
  final_of last.out >"$kind.final"
  expect_exit 0 "$kind: train on the CSVs with a header row (--csv-header)" "$DPMLP" "${TRAIN[@]}" \
    "${head[@]}" --save-model "${kind}_h.pb" --metrics "${kind}_h.jsonl" --checkpoint-dir "ck_$kind"
  check "$kind: the two models are bitwise equal" \
    grep -q 'bitwise yes' <("$MODEL_DIFF" "$kind.pb" "${kind}_h.pb")
  check "$kind: the same final line" diff "$kind.final" <(final_of last.out)
  check "$kind: the same test loss in both metrics files, every epoch" test \
    "$(metric "$kind.jsonl" 1 test_loss) $(metric "$kind.jsonl" 2 test_loss)" = \
    "$(metric "${kind}_h.jsonl" 1 test_loss) $(metric "${kind}_h.jsonl" 2 test_loss)"
  check "$kind: the checkpoint records csv_header" \
    grep -q 'csv_header: true' <("$DPMLP" info --checkpoint "$(ls "ck_$kind"/ckpt-*.pb | tail -1)")
  expect_exit 0 "$kind: eval on the plain test CSV" "$DPMLP" eval --model "$kind.pb" "${plain[@]}"
  cp last.out "$kind.eval"
  expect_exit 0 "$kind: eval with --csv-header" "$DPMLP" eval --model "$kind.pb" "${head[@]}"
  check "$kind: the same evaluation" diff "$kind.eval" last.out
  expect_exit 0 "$kind: predict from the plain input" "$DPMLP" predict --model "$kind.pb" \
    --input "${kind}_in.csv" --out "${kind}_pred.csv"
  expect_exit 0 "$kind: predict from the input with a header" "$DPMLP" predict --model "$kind.pb" \
    --input "${kind}_in_h.csv" --csv-header --out "${kind}_pred_h.csv"
  check "$kind: byte-equal predictions" cmp "${kind}_pred.csv" "${kind}_pred_h.csv"
  check "$kind: one prediction per input row, plus the output header" \
    test "$(wc -l <"${kind}_pred.csv")" -eq $(($(wc -l <"${kind}_in.csv") + 1))
done
expect_exit 0 "pandas' header 0,1,...,n-1 is accepted" "$DPMLP" "${TRAIN[@]}" \
  --train-csv pandas_h.csv --test-csv c_te_h.csv --csv-header --save-model pandas_h.pb
expect_exit 0 "  (the same file without it)" "$DPMLP" "${TRAIN[@]}" \
  --train-csv pandas_plain.csv --test-csv c_te.csv --save-model pandas.pb
check "  and trains the same model" grep -q 'bitwise yes' <("$MODEL_DIFF" pandas.pb pandas_h.pb)

# --- bad headers: exit 2 naming file:line, nothing written ---------------------------------------
bad_header() {
  local what=$1 file=$2 fragment=$3
  shift 3
  rm -rf out && mkdir out
  expect_exit 2 "$what" "$DPMLP" "${TRAIN[@]}" --csv-header --save-model out/m.pb \
    --metrics out/m.jsonl --checkpoint-dir out/ck "$@"
  stderr_names "  $what" "$file:1: " "$fragment"
  check "  $what: nothing written" test -z "$(ls -A out)"
}
bad_header "train header one name short" narrow_h.csv \
  "the header names 4 columns, but line 2 has 5 fields" \
  --train-csv narrow_h.csv --test-csv c_te_h.csv
bad_header "test header one name short" narrow_h.csv "names 4 columns" \
  --train-csv c_tr_h.csv --test-csv narrow_h.csv
bad_header "an empty column name" empty_name_h.csv "column 3 of the header has no name" \
  --train-csv empty_name_h.csv --test-csv c_te_h.csv
bad_header "a header of numbers only" numbers_h.csv "this row is all numbers" \
  --train-csv numbers_h.csv --test-csv c_te_h.csv
bad_header "--csv-header on files without a header" c_tr.csv "this row is all numbers" \
  --train-csv c_tr.csv --test-csv c_te.csv
expect_exit 2 "predict: a header one name short" "$DPMLP" predict --model c.pb --csv-header \
  --input predict_narrow_h.csv --out out/p.csv
stderr_names "  predict" "predict_narrow_h.csv:1: the header names 3 columns, but line 2 has 4"
check "  predict: nothing written" test ! -e out/p.csv
expect_exit 2 "--csv-header without CSV data" "$DPMLP" "${TRAIN[@]}" --dataset sin --csv-header
stderr_names "  --csv-header" "--csv-header needs CSV data"
expect_exit 2 "--train-csv - (standard input is for predict only)" "$DPMLP" "${TRAIN[@]}" \
  --train-csv - --test-csv c_te.csv
stderr_names "  --train-csv -" "--train-csv -: standard input is read only by predict --input"

# --- "-": standard input and standard output -----------------------------------------------------
for kind in c r; do
  "$DPMLP" predict --model "$kind.pb" --input - --out - <"${kind}_in.csv" >"${kind}_redirect.csv" \
    2>"${kind}_redirect.err"
  check "$kind: predict --input - --out - from a redirect: byte-equal to the files" \
    cmp "${kind}_pred.csv" "${kind}_redirect.csv"
  cat "${kind}_in_h.csv" | "$DPMLP" predict --model "$kind.pb" --input - --out - --csv-header \
    2>"${kind}_pipe.err" | cat >"${kind}_pipe.csv"
  check "$kind: ... through pipes, with a header: byte-equal" cmp "${kind}_pred.csv" "${kind}_pipe.csv"
  check "$kind: the log line went to standard error" \
    grep -q "^wrote 200 predictions to standard output$" "${kind}_pipe.err"
done
cat c_in.csv | "$DPMLP" predict --model c.pb --input - --out pipe_to_file.csv >pipe_to_file.out
check "--input - with --out FILE: the same file" cmp c_pred.csv pipe_to_file.csv
"$DPMLP" predict --model c.pb --input c_in.csv --out - >file_to_stdout.csv 2>/dev/null
check "--input FILE with --out -: the same bytes" cmp c_pred.csv file_to_stdout.csv
# Under mpirun only rank 0 has standard input (and predicts); the other rank must not wait on it.
cat c_in.csv | timeout 120 "${MPIRUN[@]}" -np 2 "$DPMLP" predict --model c.pb --input - --out - \
  >mpi_pipe.csv 2>mpi_pipe.err
check "mpirun -np 2 predict --input - --out -: byte-equal" cmp c_pred.csv mpi_pipe.csv
# Bad standard input: exit 2 naming <stdin> and the line, and nothing on standard output.
printf '1,2,3,4\n5,6\n' | "$DPMLP" predict --model c.pb --input - --out - >bad_stdin.out \
  2>bad_stdin.err
rc=${PIPESTATUS[1]}
check "a ragged row on standard input: exit 2 (got $rc)" test "$rc" -eq 2
check "  naming <stdin>:2" grep -q '<stdin>:2: ragged row' bad_stdin.err
check "  and nothing on standard output" test ! -s bad_stdin.out
: | "$DPMLP" predict --model c.pb --input - --out - >empty_stdin.out 2>empty_stdin.err
check "empty standard input: exit 2 naming <stdin>" grep -q '<stdin>:1: empty file' empty_stdin.err

# export --format onnx --out -: the same bytes as the file; the npy directory export refuses it.
expect_exit 0 "export --format onnx to a file" "$DPMLP" export --format onnx --model c.pb \
  --out c.onnx
"$DPMLP" export --format onnx --model c.pb --out - 2>onnx_stdout.err | cat >c_stdout.onnx
check "export --format onnx --out -: byte-equal to the file" cmp c.onnx c_stdout.onnx
check "  its log line on standard error" grep -q 'to standard output$' onnx_stdout.err
# Binary bytes are not sent to a terminal: under script(1) standard output is a pseudo-terminal.
if command -v script >/dev/null; then
  script -qec "$(printf '%q ' "$DPMLP" export --format onnx --model c.pb --out -)" tty.log \
    >/dev/null 2>&1
  check "export --format onnx --out - to a terminal: exit 2" \
    grep -q 'COMMAND_EXIT_CODE="2"' tty.log
  check "  naming it" grep -q -- '--out -: standard output is a terminal' tty.log
fi
expect_exit 2 "export --format npy --out -" "$DPMLP" export --model c.pb --out -
stderr_names "  npy to -" "--out -: the npy export writes a directory"

finish
