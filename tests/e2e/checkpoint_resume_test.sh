#!/usr/bin/env bash
# Checkpoints and exact resume: bitwise resume at np 1 and 2, cross-np resume,
# every corruption kind skipped by --resume auto, keep-K pruning, a failed write (RLIMIT_FSIZE)
# ending with exit 4 and the previous checkpoint intact, a signal → exit 75 → rerun, and a
# model-spec mismatch on resume → exit 2 naming the fields.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1

# A small Fashion-MNIST problem with every source of randomness on (shuffle, dropout, augmentation)
# and a cosine schedule, so a resume that lost any state would show.
RUN=(--train-samples 2000 --test-samples 500 --layers 64,32 --epochs 3 --batch-size 100 --progress off
  --dropout 0.2 --augment --lr-schedule cosine --warmup-epochs 0.5 --seed 7)

# --- bitwise resume at the same world size -------------------------------------------------
for np in 1 2; do
  "${MPIRUN[@]}" -np "$np" "$DPMLP" train "${RUN[@]}" --save-model "full$np.pb" >/dev/null
  "${MPIRUN[@]}" -np "$np" "$DPMLP" train "${RUN[@]}" --checkpoint-dir "ck$np" --max-steps 23 >/dev/null
  "${MPIRUN[@]}" -np "$np" "$DPMLP" train "${RUN[@]}" --checkpoint-dir "ck$np" --save-model "res$np.pb" >"log$np"
  check "np=$np resume says where it resumed" grep -q "resumed from ck$np/ckpt-0000000023.pb at step 23" "log$np"
  check "np=$np resumed run is bitwise equal to an uninterrupted one" \
    grep -q "bitwise yes" <("$MODEL_DIFF" "full$np.pb" "res$np.pb")
done

# --- the sharded update's checkpoint holds the whole velocity --------------------------------
# np 2 runs the sharded update by default (each rank keeps its half of the velocity). Resumed with
# the replicated update, which needs all of it, the run is still bitwise the uninterrupted one; and
# the other way round, from a replicated checkpoint into the sharded update.
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${RUN[@]}" --checkpoint-dir ckshard --max-steps 23 >/dev/null
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${RUN[@]}" --checkpoint-dir ckshard --update replicated \
  --save-model shard2rep.pb >log_shard2rep
check "sharded checkpoint resumed with --update replicated: bitwise equal to an uninterrupted run" \
  grep -q "bitwise yes" <("$MODEL_DIFF" full2.pb shard2rep.pb)
check "the resume names the changed --update" \
  grep -q 'resume: using new value --update "replicated" (checkpoint: "auto")' log_shard2rep
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${RUN[@]}" --checkpoint-dir ckrep --update replicated --max-steps 23 >/dev/null
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${RUN[@]}" --checkpoint-dir ckrep --update sharded \
  --save-model rep2shard.pb >/dev/null
check "replicated checkpoint resumed with --update sharded: bitwise equal to an uninterrupted run" \
  grep -q "bitwise yes" <("$MODEL_DIFF" full2.pb rep2shard.pb)

# --- cross world size: saved at np 2, resumed at np 1 and 3; 50 more steps ------------------
X=(--train-samples 3000 --test-samples 200 --layers 64,32 --epochs 4 --batch-size 100 --progress off --seed 3)
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${X[@]}" --max-steps 80 --save-model x_full.pb >/dev/null
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${X[@]}" --max-steps 30 --checkpoint-dir x2 >/dev/null
for np in 1 3; do
  cp -r x2 "x2to$np"
  "${MPIRUN[@]}" -np "$np" "$DPMLP" train "${X[@]}" --max-steps 80 --checkpoint-dir "x2to$np" \
    --save-model "x_$np.pb" >/dev/null
  rel=$("$MODEL_DIFF" x_full.pb "x_$np.pb" | awk '{print $2}')
  check "saved at np=2, resumed at np=$np: rel L2 difference $rel <= 1e-5 after 50 steps" lt "$rel" 1.0000001e-5
done

# --- corruption: each kind is named and skipped in favour of the previous good file ----------
C=(--train-samples 1000 --test-samples 100 --epochs 1 --batch-size 50 --progress off --layers 16)
CNOLAYERS=("${C[@]:0:8}")
"$DPMLP" train "${C[@]}" --checkpoint-dir good --checkpoint-every 5 --max-steps 10 >/dev/null
newest=ckpt-0000000010.pb
# Header: 8-byte magic, u32 version at 8, u64 payload length at 12, u32 CRC at 20, payload at 24.
corrupt() {  # corrupt KIND FILE
  case $1 in
    truncated) truncate -s 1000 "$2" ;;
    header-byte) printf '\xff' | dd of="$2" bs=1 seek=21 conv=notrunc status=none ;;
    payload-byte) printf '\x5a' | dd of="$2" bs=1 seek=500 conv=notrunc status=none ;;
    wrong-magic) printf 'NOTDPMLP' | dd of="$2" bs=1 seek=0 conv=notrunc status=none ;;
    empty) : >"$2" ;;
    absurd-length) printf '\x00\x00\x00\x00\x00\x00\x10\x00' | dd of="$2" bs=1 seek=12 conv=notrunc status=none ;;
  esac
}
declare -A expect=([truncated]="truncated payload" [header-byte]="CRC mismatch" [payload-byte]="CRC mismatch"
  [wrong-magic]="wrong magic" [empty]="empty file" [absurd-length]="absurd payload length")
for kind in truncated header-byte payload-byte wrong-magic empty absurd-length; do
  rm -rf "c_$kind" && cp -r good "c_$kind"
  corrupt "$kind" "c_$kind/$newest"
  "$DPMLP" train "${C[@]}" --checkpoint-dir "c_$kind" --max-steps 5 >"log_$kind" 2>&1
  check "corrupt ($kind) is reported by name and reason" \
    grep -q "skipping corrupt checkpoint c_$kind/$newest: .*${expect[$kind]}" "log_$kind"
  check "corrupt ($kind) is skipped for the previous good checkpoint" \
    grep -q "resumed from c_$kind/ckpt-0000000005.pb at step 5" "log_$kind"
done

# --- keep K ------------------------------------------------------------------------------
"$DPMLP" train "${C[@]}" --checkpoint-dir keep --checkpoint-every 3 --keep 2 --max-steps 15 >/dev/null
check "--keep 2 leaves the newest two checkpoints and no temporary file" \
  test "$(ls keep | tr '\n' ' ')" = "ckpt-0000000012.pb ckpt-0000000015.pb "

# --- a failed write: exit 4, the previous checkpoint intact, every rank told ---------------------
"$DPMLP" train "${C[@]}" --checkpoint-dir fsz --max-steps 5 >/dev/null
cp fsz/ckpt-0000000005.pb before.pb
# RLIMIT_FSIZE (a single process: under mpirun the limit would also hit MPI's shared-memory files).
(ulimit -f 20 && exec "$DPMLP" train "${C[@]}" --checkpoint-dir fsz --max-steps 10 >log_fsz 2>&1)
rc=$?
check "a checkpoint write beyond RLIMIT_FSIZE exits 4 (got $rc)" test "$rc" -eq 4
check "the failure message names the checkpoint file" grep -q "ckpt-0000000010.pb.tmp: File too large" log_fsz
check "the previous checkpoint is intact" cmp -s before.pb fsz/ckpt-0000000005.pb
check "no partial file under a final name" test ! -e fsz/ckpt-0000000010.pb
# Two ranks, a directory that cannot be created (its parent is a file): only rank 0 writes, and
# both ranks end with exit 4 rather than one waiting forever.
touch notadir
timeout 120 "${MPIRUN[@]}" -np 2 "$DPMLP" train "${C[@]}" --checkpoint-dir notadir/ck --resume none \
  --max-steps 5 >log_nd 2>&1
rc=$?
check "a failed checkpoint write at np=2 ends the job with exit 4 (got $rc)" test "$rc" -eq 4
check "the message names the directory" grep -q "notadir/ck" log_nd

# --- a signal: exit 75, then the same command finishes bitwise equal ---------------------------
S=(--test-samples 200 --layers 256,128 --epochs 3 --batch-size 100 --progress off --seed 5)
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${S[@]}" --save-model s_full.pb >/dev/null
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${S[@]}" --checkpoint-dir sig --checkpoint-every 50 --save-model s_res.pb \
  >log_sig 2>&1 &
job=$!
for _ in $(seq 2400); do [ -e sig/ckpt-0000000050.pb ] && break; sleep 0.05; done
kill -USR1 "$job"
wait "$job"
rc=$?
check "SIGUSR1 to mpirun ends the job with exit 75 (got $rc)" test "$rc" -eq 75
check "the log says where it stopped" grep -q "stopped by a signal at step" log_sig
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${S[@]}" --checkpoint-dir sig --checkpoint-every 50 --save-model s_res.pb \
  >log_sig2 2>&1
check "the rerun resumes" grep -q "resumed from sig/ckpt-" log_sig2
check "the rerun finishes bitwise equal to an uninterrupted run" \
  grep -q "bitwise yes" <("$MODEL_DIFF" s_full.pb s_res.pb)

# --- a spec mismatch on resume -----------------------------------------------------------------
"$DPMLP" train "${C[@]}" --activation tanh --checkpoint-dir good >log_spec 2>&1
rc=$?
check "a model-spec mismatch on resume exits 2 (got $rc)" test "$rc" -eq 2
check "the mismatch names --activation" grep -q "\-\-activation: checkpoint relu, requested tanh" log_spec
"$DPMLP" train "${CNOLAYERS[@]}" --layers 32,8 --checkpoint-dir good >log_spec2 2>&1
check "the mismatch names --layers" grep -q "\-\-layers: checkpoint 16, requested 32,8" log_spec2
"$DPMLP" info --checkpoint good/$newest >log_info 2>&1
check "info --checkpoint prints the training position" grep -q "step: 10" log_info
"$DPMLP" info --checkpoint good/$newest --json >log_json 2>&1
check "info --checkpoint --json prints JSON" grep -q '"momentum_form": "classical"' log_json
# --- which BLAS runs: header, --metrics, the checkpoint and `info --blas` agree
# with each other and with the core the linked libopenblas selects in another process (python
# ctypes), under the environment as given (OPENBLAS_CORETYPE is never set or changed here).
"${MPIRUN[@]}" -np 2 "$DPMLP" train "${C[@]}" --checkpoint-dir blas --metrics blas.jsonl >log_blas 2>&1
"$DPMLP" info --checkpoint "$(ls blas/ckpt-*.pb | tail -1)" --json >blas_ck.json 2>&1
"$DPMLP" info --blas --json >blas_info.json 2>&1
LIBBLAS=$(ldd "$DPMLP" | awk '/libblas|libopenblas/ { print $3; exit }')
REAL_CORE=$(python3 -c 'import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())' "$LIBBLAS")
M_CORE=$(metric blas.jsonl 1 blas_core)
M_THREADS=$(metric blas.jsonl 1 blas_threads)
jget() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d = d.get(k, "") if isinstance(d, dict) else ""
print(d)' "$@"; }
check "the linked OpenBLAS ($LIBBLAS) names a core ($REAL_CORE)" test -n "$REAL_CORE"
check "metrics blas_core '$M_CORE' is the core OpenBLAS selects ('$REAL_CORE')" test "$M_CORE" = "$REAL_CORE"
check "checkpoint blas.core is the same" test "$(jget blas_ck.json blas core)" = "$REAL_CORE"
check "info --blas --json core is the same" test "$(jget blas_info.json core)" = "$REAL_CORE"
check "the header's blas line names that core and 1 thread per rank" \
  grep -q "^blas: OpenBLAS .*, core $REAL_CORE, 1 thread(s) per rank$" log_blas
check "metrics and checkpoint record 1 thread per rank at np=2 ($M_THREADS)" \
  test "$M_THREADS" = 1 -a "$(jget blas_ck.json blas threads)" = 1
check "metrics blas_config is the checkpoint's and names OpenBLAS" \
  test "$(metric blas.jsonl 1 blas_config)" = "$(jget blas_ck.json blas config)" -a \
  -n "$(grep -o 'OpenBLAS [0-9.]*' <<<"$(jget blas_ck.json blas config)")"
check "checkpoint records OPENBLAS_CORETYPE as found ('${OPENBLAS_CORETYPE:-}')" \
  test "$(jget blas_ck.json blas coretype_env)" = "${OPENBLAS_CORETYPE:-}"
# The notice: never without the variable; exactly once when it forces an AVX2 kernel on a CPU
# with AVX-512 F/BW/VL (/proc/cpuinfo), as CI's Zen 5 with OPENBLAS_CORETYPE=Haswell does.
NOTICES=$(grep -c "^notice: OPENBLAS_CORETYPE=" log_blas)
AVX512=$(grep -m1 '^flags' /proc/cpuinfo | grep -w avx512f | grep -w avx512bw | grep -wc avx512vl)
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  check "no kernel notice with OPENBLAS_CORETYPE unset ($NOTICES)" test "$NOTICES" = 0
elif [ "$AVX512" = 1 ] && [[ $REAL_CORE =~ ^(Haswell|Zen)$ ]]; then
  check "one kernel notice: $REAL_CORE forced on an AVX-512 CPU ($NOTICES)" test "$NOTICES" = 1
  check "the notice says how to unset it" grep -q "unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE" log_blas
else
  check "at most one kernel notice ($NOTICES)" test "$NOTICES" -le 1
fi
finish
