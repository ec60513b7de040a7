#!/usr/bin/env bash
# Inputs, options, signals: a stop signal outside the step loop ends dpmlp at once with
# 128 + signo, even while it blocks on a FIFO; a file that is not a regular file is read as a
# stream up to a cap; every numeric option is range-checked (NaN and Inf too); a resume with
# another --seed is refused unless allowed; `info --json` prints one JSON document; values that
# underflow float and byte-order marks are accepted. Error cases of the same classes are in the
# bad-input corpus (tests/bad_inputs/cases.tsv, block "inputs, options, signals").
# Special files are made in the test's own directory (mkfifo, mknod), never under /dev.
source "$(dirname "$0")/lib.sh" "$@"
GOOD=$REPO/tests/bad_inputs/good
cd "$WORK" || exit 1
csv=(--test-csv "$GOOD/test.csv" --layers 4 --epochs 1 --progress off)

# --- stop signals while blocked outside training -----------------------------------------------
# stop_blocked NAME SIG WANT ARGS...: runs dpmlp ARGS (blocked on a FIFO nobody writes), sends SIG
# once it has been blocked for 1 s, and requires exit WANT within 3 s of the signal. timeout
# kills a hung run after 20 s (exit 137).
stop_blocked() {
  local name=$1 sig=$2 want=$3 tpid pid rc t0 t1
  shift 3
  timeout -s KILL 20 "$DPMLP" "$@" >"$name.out" 2>"$name.err" &
  tpid=$!
  sleep 1
  pid=$(pgrep -P "$tpid")
  if [ -z "$pid" ]; then
    wait "$tpid"
    fail "$name: dpmlp ended before the signal (exit $?): $(head -c 300 "$name.err")"
    return
  fi
  t0=$(date +%s.%N)
  kill -s "$sig" "$pid"
  wait "$tpid"
  rc=$?
  t1=$(date +%s.%N)
  local took
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  check "$name: SIG$sig ends it with exit $want (got $rc) within 3 s (took $took s)" \
    awk -v rc="$rc" -v want="$want" -v t="$took" 'BEGIN { exit !(rc == want && t < 3) }'
}
mkfifo fifo-train fifo-config fifo-input
stop_blocked "FIFO --train-csv" TERM 143 train --train-csv fifo-train "${csv[@]}"
stop_blocked "FIFO --train-csv" INT 130 train --train-csv fifo-train "${csv[@]}"
stop_blocked "FIFO --config" TERM 143 train --config fifo-config --dataset sin --layers 4
# A checkpoint is only ever read from a regular file: a FIFO under a checkpoint name is never
# opened (so nothing blocks); it is named, and --resume auto does not start fresh over it.
mkdir ckdir && mkfifo ckdir/ckpt-0000000005.pb
t0=$(date +%s.%N)
timeout -s KILL 20 "$DPMLP" train --dataset sin --layers 4 --activation tanh --epochs 1 \
  --progress off --checkpoint-dir ckdir >ckfifo.out 2>ckfifo.err
rc=$?
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
check "FIFO ckpt-*.pb under --resume auto: exit 2 (got $rc) within 3 s (took $took s)" \
  awk -v rc="$rc" -v t="$took" 'BEGIN { exit !(rc == 2 && t < 3) }'
check "... naming the FIFO" grep -q 'ckpt-0000000005.pb' ckfifo.out ckfifo.err
stop_blocked "predict reading a FIFO --input" INT 130 predict --model "$GOOD/model.pb" \
  --input fifo-input --out pred.csv
check "predict wrote nothing after SIGINT" test ! -e pred.csv
check "the message says why" grep -q 'stopped by signal 2 outside training' "predict reading a FIFO --input.err"

# --- files that are not regular files -----------------------------------------------------------
# A FIFO with a writer is read as a stream: a process substitution works like a file.
expect_exit 0 "train from a FIFO fed with good/train.csv" "$DPMLP" train \
  --train-csv <(cat "$GOOD/train.csv") "${csv[@]}"
# A character device that never ends (a /dev/zero made here) stops at the 1 GiB cap.
if mknod zero c 1 5 2>/dev/null; then
  # A reader without the cap would fill the machine's memory: bound it (address space, or under
  # ASan, which reserves terabytes of it, single allocations) and the time.
  (
    if [ "$ASAN_BUILD" = 1 ]; then
      export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=3072
    else
      ulimit -v 4000000
    fi
    exec /usr/bin/time -f '%M %e' -o zero.time timeout -s KILL 60 "$DPMLP" train --train-csv zero \
      "${csv[@]}" >zero.out 2>zero.err
  )
  rc=$?
  read -r rss_kb secs < <(tail -1 zero.time)
  check "a character device as --train-csv: exit 2 (got $rc)" test "$rc" = 2
  check "  naming it and the cap" grep -q "zero: a character device that gave more than 1073741824 bytes" zero.err
  check "  peak RSS $((rss_kb / 1024)) MB under 2.5 GB, $secs s under 60 s" \
    awk -v k="$rss_kb" -v s="$secs" 'BEGIN { exit !(k < 2.5 * 1024 * 1024 && s < 60) }'
else
  fail "mknod not permitted: the character-device checks need root (as in CI)"
fi

# --- numeric options: NaN, Inf and out of range, each named with its range ----------------------
bad_number() {
  local option=$1
  shift
  expect_exit 2 "--$option $*" "$DPMLP" train --dataset sin --layers 4 --max-steps 1 --progress off "$@"
  stderr_names "--$option $*" "--$option must be" "(got"
}
bad_number weight-decay --weight-decay nan
bad_number l1 --l1 nan
bad_number min-lr --min-lr nan
bad_number lr-gamma --lr-gamma inf
bad_number sigmoid-k --activation sigmoid --sigmoid-k inf
for v in inf -1 nan; do bad_number alpha --activation leaky_relu --alpha "$v"; done
bad_number clip-norm --clip-norm nan
bad_number max-norm --max-norm nan
bad_number warmup-epochs --warmup-epochs nan
bad_number warmup-epochs --warmup-epochs inf
bad_number checkpoint-every-seconds --checkpoint-every-seconds nan
bad_number collective-timeout --collective-timeout nan
bad_number seed --seed -5
bad_number dropout --dropout nan
bad_number lr --lr inf
expect_exit 0 "--seed 18446744073709551615 (the largest) is accepted" "$DPMLP" train --dataset sin \
  --layers 4 --max-steps 1 --progress off --seed 18446744073709551615

# --- --seed on resume ----------------------------------------------------------------------------
run_seed() { "$DPMLP" train --dataset sin --layers 4 --activation tanh --epochs 2 --progress off \
  --checkpoint-dir seeds "$@"; }
expect_exit 0 "train 3 steps with --seed 3" run_seed --seed 3 --max-steps 3
expect_exit 2 "resume the same run with --seed 4" run_seed --seed 4 --max-steps 6
stderr_names "the refusal" "seeds/ckpt-0000000003.pb" "--seed 4 (checkpoint: 3)" "--allow-seed-change"
ckpts=(seeds/ckpt-*.pb)
check "no checkpoint was written by the refused run" test "${#ckpts[@]}" = 1
expect_exit 0 "resume with --seed 4 --allow-seed-change" run_seed --seed 4 --max-steps 6 \
  --allow-seed-change
check "it says so" grep -q 'resume: using new value --seed 4 (checkpoint: 3)' "$WORK/last.out"
"$DPMLP" info --checkpoint seeds/ckpt-0000000006.pb --json >seed.json 2>&1
check "the new checkpoint records seed 4" python3 -c '
import json, sys; sys.exit(json.load(open("seed.json"))["seed"] != "4")'

# --- info --json: one JSON document ---------------------------------------------------------------
"$DPMLP" info --model "$GOOD/model.pb" --json >model.json 2>model.err
check "info --model --json is one JSON document with parameters inside" python3 -c '
import json, sys
d = json.load(open("model.json"))
n = sum(len(t["data"]) for t in d["params"])
sys.exit(not (d["parameters"] == n and n > 0))'
"$DPMLP" info --dataset sin --layers 8,3 --json >spec.json 2>spec.err
check "info --layers 8,3 --json is one JSON document whose parameters add up" python3 -c '
import json, sys
d = json.load(open("spec.json"))
w = d["architecture"]
n = sum(a * b + b for a, b in zip(w, w[1:]))
sys.exit(not (w[1:3] == [8, 3] and d["parameters"] == n and len(d["layers"]) == 3))'

# --- values and text the readers now accept ------------------------------------------------------
printf '0,1e-50,2\n1,-1e-50,3\n2,1e-400,1\n0,1e-40,0\n' >tiny.csv
expect_exit 0 "CSV values that round to 0 or a subnormal (1e-50, 1e-400, 1e-40) train" \
  "$DPMLP" train --train-csv tiny.csv "${csv[@]}"
printf '\xef\xbb\xbf0,1,2\n1,2,3\n2,0,1\n' >bom.csv
expect_exit 0 "a CSV starting with a UTF-8 BOM trains" "$DPMLP" train --train-csv bom.csv "${csv[@]}"
printf '\xef\xbb\xbfbatch-size = 4\nepochs = 1\nlr = 0.01\n' >bom.ini
expect_exit 0 "an INI starting with a UTF-8 BOM is read" "$DPMLP" train --config bom.ini \
  --dataset sin --layers 4 --activation tanh --progress off
check "  and its first key is used (batch 4)" grep -q 'global batch 4 ' "$WORK/last.out"

# --- an IDX file that is a directory is named as one --------------------------------------------
mkdir idx && cp "$GOOD"/idx/* idx/ && rm idx/t10k-labels-idx1-ubyte && mkdir idx/t10k-labels-idx1-ubyte
expect_exit 2 "an IDX labels 'file' that is a directory" "$DPMLP" train --data-dir idx --layers 4 \
  --epochs 1 --progress off
stderr_names "the message" "idx/t10k-labels-idx1-ubyte: is a directory, not an IDX file"
finish
