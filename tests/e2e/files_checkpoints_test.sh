#!/usr/bin/env bash
# Files and checkpoints: dpmlp never replaces a file it does not own (devices, FIFOs,
# symbolic links), keeps only its own checkpoints, holds one run per checkpoint directory, writes
# every output it can when one fails, reads a checkpoint's header before its payload, and appends
# metrics in whole lines. Device nodes, FIFOs and sparse files are made inside $WORK only.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
S=(--dataset sin --layers 4 --activation tanh --progress off)  # 8 steps an epoch
valid_jsonl() { python3 -c 'import json, sys
for line in open(sys.argv[1]).read().split("\n")[:-1]: json.loads(line)' "$1" 2>/dev/null; }

# --- defect 1: special files are written in place, symbolic links followed -------------------
if mknod null c 1 3 2>/dev/null; then
  expect_exit 0 "--save-model and --metrics onto a character device" "$DPMLP" train "${S[@]}" \
    --epochs 1 --save-model null --metrics null
  check "... the device node is still a character device" test -c null
  check "... and no temp file was left beside it" test ! -e null.tmp
else
  fail "mknod in $WORK failed: cannot test device outputs"
fi
mkdir real && ln -s real/model.pb link.pb
expect_exit 0 "--save-model onto a symbolic link" "$DPMLP" train "${S[@]}" --epochs 1 --save-model link.pb
check "... the link stays a link" test -L link.pb
expect_exit 0 "... and its target is the model" "$DPMLP" info --model real/model.pb
mkfifo pred.fifo
timeout 60 cat pred.fifo >pred.got &
reader=$!
expect_exit 0 "predict --out into a FIFO with a reader" "$DPMLP" predict --model real/model.pb \
  --input "$REPO/tests/bad_inputs/good/inputs1.csv" --out pred.fifo
wait "$reader"
check "... the reader got the header and 3 predictions" test "$(wc -l <pred.got)" -eq 4
check "... the FIFO is still a FIFO" test -p pred.fifo

# --- outputs that are directories are refused at start-up -------------------------------------
mkdir outdir
start=$(date +%s.%N)
expect_exit 2 "--metrics naming a directory" "$DPMLP" train "${S[@]}" --epochs 50 --metrics outdir
stderr_names "--metrics naming a directory" "--metrics outdir" "is a directory"
check "... found before training (no epoch line)" test -z "$(grep '^epoch ' "$WORK/last.out")"

# --- defect 2: keep-K counts only this run's valid checkpoints --------------------------------
mkdir k && echo junk >k/ckpt-0000099999.pb
expect_exit 0 "--keep 1 beside a junk ckpt-0000099999.pb" "$DPMLP" train "${S[@]}" --epochs 2 \
  --checkpoint-dir k --checkpoint-every 4 --keep 1 --resume none
check "... the run's last checkpoint (step 16) is kept" test -f k/ckpt-0000000016.pb
check "... exactly one of its own is kept" test "$(ls k | grep -c '^ckpt-00000000')" -eq 1
check "... the junk file is not removed" test "$(cat k/ckpt-0000099999.pb)" = junk
check "... warning on stdout names the junk file" grep -q "not counting k/ckpt-0000099999.pb" "$WORK/last.out"

# --- questionable: every checkpoint corrupt with --resume auto --------------------------------
mkdir bad && echo junk >bad/ckpt-0000000005.pb
expect_exit 2 "--resume auto when every checkpoint is corrupt" "$DPMLP" train "${S[@]}" --epochs 1 \
  --checkpoint-dir bad
stderr_names "--resume auto when every checkpoint is corrupt" "bad" "--fresh-start-ok"
expect_exit 0 "... with --fresh-start-ok it starts fresh" "$DPMLP" train "${S[@]}" --epochs 1 \
  --checkpoint-dir bad --fresh-start-ok
expect_exit 0 "--resume auto on a missing directory starts fresh" "$DPMLP" train "${S[@]}" --epochs 1 \
  --checkpoint-dir none-yet
check "... saying so" grep -q "starting fresh" "$WORK/last.out"

# --- defect 9: a 30 GB sparse file under a checkpoint name is skipped by name, at once ---------
mkdir sp
"$DPMLP" train "${S[@]}" --epochs 1 --checkpoint-dir sp >/dev/null
truncate -s 30G sp/ckpt-0000099999.pb
python3 -c 'import struct, sys
size = 30 << 30
open(sys.argv[1], "wb").write(b"DPMLPCKP" + struct.pack("<IQI", 1, size - 24, 0))' sp/ckpt-0000099998.pb
truncate -s 30G sp/ckpt-0000099998.pb
start=$(date +%s.%N)
expect_exit 0 "resume beside two 30 GB sparse checkpoint files" /usr/bin/time -f "%M" -o sp.rss \
  "$DPMLP" train "${S[@]}" --epochs 2 --checkpoint-dir sp
took=$(echo "$(date +%s.%N) - $start" | bc)
check "... resumed from the valid one" grep -q "resumed from sp/ckpt-0000000008.pb" "$WORK/last.out"
check "... both named as skipped" test "$(grep -c 'skipping corrupt checkpoint sp/ckpt-000009999' "$WORK/last.out")" -eq 2
check "... in under 10 s (took $took s)" lt "$took" 10
check "... with under 200 MB of memory ($(tail -1 sp.rss) KB)" test "$(tail -1 sp.rss)" -lt 200000
rm -f sp/ckpt-00000999*

# --- resume: a changed --normalize is refused, a changed --init is not -------------------------
expect_exit 2 "resume with --normalize changed" "$DPMLP" train "${S[@]}" --epochs 3 --checkpoint-dir sp \
  --normalize standardize
stderr_names "resume with --normalize changed" "--normalize standardize" "checkpoint: auto"
expect_exit 0 "resume with --init changed" "$DPMLP" train "${S[@]}" --epochs 3 --checkpoint-dir sp --init he
check "... says it has no effect" grep -q "init he has no effect" "$WORK/last.out"

# --- defect 3: one run per checkpoint directory -------------------------------------------------
"$DPMLP" train "${S[@]}" --epochs 100000 --checkpoint-dir L --checkpoint-every 1 >holder.out 2>&1 &
holder=$!
for _ in $(seq 400); do [ -n "$(ls L 2>/dev/null | grep '^ckpt-')" ] && break; sleep 0.05; done
expect_exit 2 "a second run on a locked checkpoint directory" timeout 60 "$DPMLP" train "${S[@]}" \
  --epochs 1 --checkpoint-dir L
stderr_names "a second run on a locked checkpoint directory" "checkpoint directory L is in use" \
  "host $(hostname) pid $holder"
kill -TERM "$holder"
wait "$holder"
rc=$?
check "the first run ends with 75 on SIGTERM (got $rc)" test "$rc" -eq 75
check "... and removes its lock file" test ! -e L/dpmlp.lock
expect_exit 0 "... after which the directory can be used again" "$DPMLP" train "${S[@]}" --epochs 1 \
  --checkpoint-dir L --max-steps 1

# --- defect 4: a failed final checkpoint still writes the model and the metrics ----------------
mkdir -p f/ckpt-0000000008.pb.tmp  # squats the final checkpoint's temp name: that write fails
expect_exit 4 "the final checkpoint fails" "$DPMLP" train "${S[@]}" --epochs 1 --checkpoint-dir f \
  --save-model f.pb --metrics f.jsonl
stderr_names "the final checkpoint fails" "f/ckpt-0000000008.pb" "1 output(s) failed"
expect_exit 0 "... and the model was written all the same" "$DPMLP" info --model f.pb
check "... and the metrics" test "$(wc -l <f.jsonl)" -eq 1

# --- defect 10: a partial metrics line left by an interrupted write is removed on resume -------
"$DPMLP" train "${S[@]}" --epochs 1 --checkpoint-dir m --metrics m.jsonl >/dev/null
printf '{"epoch": 2, "step": 1' >>m.jsonl
expect_exit 0 "resume with a partial last metrics line" "$DPMLP" train "${S[@]}" --epochs 2 \
  --checkpoint-dir m --metrics m.jsonl
check "... says it removed it" grep -q "metrics m.jsonl: removed a partial last line (22 bytes)" "$WORK/last.out"
check "... every line is whole JSON, one per epoch" valid_jsonl m.jsonl
check "... two lines" test "$(wc -l <m.jsonl)" -eq 2
finish
