#!/usr/bin/env bash
# The bad-input corpus: every case of tests/bad_inputs/cases.tsv must end with its
# exit code (2 bad input, 4 output I/O), one message naming the file (or option) and holding the
# case's fragment, no crash (signal, uncaught exception, sanitizer report), no hang, and no
# partial output. Cases flagged np2 run again under mpirun -np 2: both ranks end with the code
# and exactly one message is printed. Cases flagged bug are known defects: reported, not failed,
# until they pass (then the flag must go).
source "$(dirname "$0")/lib.sh" "$@"
CORPUS=$REPO/tests/bad_inputs
GOOD=$CORPUS/good
cd "$WORK" || exit 1
KNOWN=0

# --- controls: the good files the corpus breaks must themselves work ------------------------------
mkdir -p good-idx && cp "$GOOD"/idx/* good-idx/
expect_exit 0 "control: info on good/model.pb" "$DPMLP" info --model "$GOOD/model.pb"
expect_exit 0 "control: info on good/ckpt.pb" "$DPMLP" info --checkpoint "$GOOD/ckpt.pb"
expect_exit 0 "control: resume from good/ckpt.pb" "$DPMLP" train --dataset sin --layers 4 \
  --activation tanh --epochs 1 --progress off --resume "$GOOD/ckpt.pb"
expect_exit 0 "control: train on good/idx" "$DPMLP" train --data-dir good-idx --layers 4 --epochs 1 \
  --progress off
expect_exit 0 "control: train on good/*.csv" "$DPMLP" train --train-csv "$GOOD/train.csv" \
  --test-csv "$GOOD/test.csv" --layers 4 --epochs 1 --progress off
expect_exit 0 "control: train with good/train.ini" "$DPMLP" train --config "$GOOD/train.ini" \
  --dataset sin --layers 4 --progress off
expect_exit 0 "control: predict with good/model.pb" "$DPMLP" predict --model "$GOOD/model.pb" \
  --input "$GOOD/inputs1.csv" --out control-pred.csv

# make_special KIND PATH: a file no corpus can hold, made in the case's own directory (never under
# a system path): dir, fifo, blockdev (a node, never opened), sparse-ckpt (a 30 GB sparse file
# behind a valid checkpoint header), corrupt-ckpt-dir (a folder whose only checkpoint is junk).
make_special() {
  case $1 in
    dir) mkdir -p "$2" ;;
    fifo) mkfifo "$2" ;;
    blockdev) mknod "$2" b 7 250 ;;
    sparse-ckpt)
      python3 -c 'import struct, sys
open(sys.argv[1], "wb").write(b"DPMLPCKP" + struct.pack("<IQI", 1, (30 << 30) - 24, 0))' "$2" &&
        truncate -s 30G "$2" ;;
    corrupt-ckpt-dir) mkdir -p "$2" && echo junk >"$2/ckpt-0000000005.pb" ;;
    *) return 1 ;;
  esac
}

# run_case NP NAME FILE WANT FLAGS NAMES FRAGMENT ARGS: one run of one case; prints one line.
run_case() {
  local np=$1 name=$2 file=$3 want=$4 flags=$5 names=$6 fragment=$7 args=$8
  local dir="$WORK/case-$name-np$np" named="" role rc problems=() special=""
  local out="$dir/out"
  mkdir -p "$out"
  if [[ $args =~ @IDX:([a-z0-9.-]+)@ ]]; then
    role=${BASH_REMATCH[1]}
    mkdir -p "$dir/idx" && cp "$GOOD"/idx/* "$dir/idx/"
    rm -f "$dir/idx/${role%.gz}"  # so a .gz role is the one found
    cp "$CORPUS/$file" "$dir/idx/$role"
    named="$dir/idx/$role"
    args=${args//"@IDX:$role@"/"$dir/idx"}
  elif [[ $args =~ @NODE:([a-z-]+)(:([a-z0-9_./-]+))?@ ]]; then
    # A special file made for this case inside its own directory, never a real /dev path:
    # chardev (mknod c 1 5, a /dev/zero), link-chardev (a symbolic link to one), dir, and
    # fifo:FILE (a FIFO that a background cat fills with corpus FILE).
    local kind=${BASH_REMATCH[1]} feed=${BASH_REMATCH[3]} token=${BASH_REMATCH[0]}
    named="$dir/node-$kind"
    case $kind in
      chardev) mknod "$named" c 1 5 ;;
      link-chardev) mknod "$dir/zero" c 1 5 && ln -s "$dir/zero" "$named" ;;
      dir) mkdir "$named" ;;
      fifo) mkfifo "$named" && { cat "$CORPUS/$feed" >"$named" 2>/dev/null & } ;;
    esac || { fail "$name: cannot make the $kind node (mknod needs root)"; return; }
    args=${args//"$token"/"$named"}
  elif [[ $args =~ @SPECIAL:([a-z-]+)@ ]]; then
    special="$dir/special-${BASH_REMATCH[1]}"
    make_special "${BASH_REMATCH[1]}" "$special" || problems+=("cannot make $special")
    named=$special
    args=${args//"@SPECIAL:${BASH_REMATCH[1]}@"/"$special"}
  elif [ "$file" != - ]; then
    named="$CORPUS/$file"
  fi
  args=${args//@FILE@/"$CORPUS/$file"}
  args=${args//@GOOD@/"$GOOD"}
  args=${args//@OUT@/"$out"}
  [ "$names" != - ] && named=${names//@OUT@/"$out"} && named=${named//@GOOD@/"$GOOD"}
  local argv
  read -ra argv <<<"$args"
  # A bad input must fail before anything is written: give train every output it can make.
  # (An output the case itself names is left as the case gives it.)
  if [ "${argv[0]}" = train ] && [ "$want" = 2 ]; then
    argv+=(--progress off --checkpoint-every 1)
    [[ " ${argv[*]} " == *" --metrics "* ]] || argv+=(--metrics "$out/metrics.jsonl")
    [[ " ${argv[*]} " == *" --checkpoint-dir "* ]] || argv+=(--checkpoint-dir "$out/ckpt")
    [[ " ${argv[*]} " == *" --save-model "* ]] || argv+=(--save-model "$out/model.pb")
  fi
  local launch=()
  [ "$np" -gt 1 ] && launch=("${MPIRUN[@]}" -np "$np")
  (
    if [[ ,$flags, == *,memlimit,* ]]; then
      # A file must not make dpmlp allocate what its header declares: cap the address space (ASan
      # reserves terabytes of it, so there cap single allocations instead).
      if [ "$ASAN_BUILD" = 1 ]; then
        export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=2048
      else
        ulimit -v 4000000
      fi
    fi
    exec timeout -k 5 60 "${launch[@]}" "$DPMLP" "${argv[@]}" </dev/null >"$dir/stdout" 2>"$dir/stderr"
  )
  rc=$?

  # timeout exits 124 after SIGTERM, 137 when it had to SIGKILL (dpmlp traps SIGTERM).
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    problems+=("hung: killed after 60 s")
  elif [ "$rc" -ge 128 ]; then
    problems+=("killed by signal $((rc - 128))")
  fi
  [ "$rc" = "$want" ] || problems+=("exit $rc, expected $want")
  local crash
  crash=$(grep -aE -m1 'terminate called|AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|internal error|MPI_ABORT' "$dir/stderr")
  [ -n "$crash" ] && problems+=("crash: $crash")
  grep -qaF -- "$named" "$dir/stderr" || problems+=("message does not name '$named'")
  grep -qaF -- "$fragment" "$dir/stderr" || problems+=("message lacks '$fragment'")
  local messages
  messages=$(grep -ac 'dpmlp: error' "$dir/stderr")
  [ "$messages" = 1 ] || problems+=("$messages error messages, expected exactly one")
  if [ "$want" = 2 ]; then
    local left
    left=$(cd "$out" && find . -mindepth 1 | head -5 | tr '\n' ' ')
    [ -z "$left" ] && grep -qa '^final: ' "$dir/stdout" && left="(a 'final:' line: training ran)"
    [ -n "$left" ] && problems+=("output left behind: $left")
  elif [ -n "$special" ]; then
    [ -e "$named.tmp" ] && problems+=("partial output at $named.tmp")
  else
    [ -e "$named" ] || [ -e "$named.tmp" ] && problems+=("partial output at $named")
  fi
  # A FIFO's writer that nobody read from: end it (the open blocks until a reader comes).
  [ -p "$dir/node-fifo" ] && { timeout 2 cat "$dir/node-fifo" >/dev/null 2>&1 || true; }
  # A special file is never replaced: it must be what it was made as.
  if [ -n "$special" ]; then
    case $special in
      *-dir) [ -d "$special" ] && [ ! -L "$special" ] ;;
      *-fifo) [ -p "$special" ] ;;
      *-blockdev) [ -b "$special" ] ;;
      *) [ -f "$special" ] ;;
    esac || problems+=("$special was replaced")
  fi

  local what="$name$([ "$np" -gt 1 ] && echo " (np=$np)"): $(printf '%s ' "${argv[@]}" | sed "s|$CORPUS/||g; s|$WORK/||g")"
  if [[ ,$flags, == *,bug,* ]]; then
    if [ ${#problems[@]} -gt 0 ]; then
      KNOWN=$((KNOWN + 1))
      echo "KNOWN BUG: $what: $(printf '%s; ' "${problems[@]}")stderr: $(head -c 300 "$dir/stderr" | tr '\0' '?')"
    else
      fail "$what: passes but is flagged bug in cases.tsv: remove the flag"
    fi
  elif [ ${#problems[@]} -eq 0 ]; then
    pass "$what -> exit $rc"
  else
    fail "$what: $(printf '%s; ' "${problems[@]}")stderr: $(head -c 600 "$dir/stderr" | tr '\0' '?')"
  fi
}

CASES=0
while IFS=$'\t' read -r name file want flags names fragment args <&3; do
  [[ -z $name || $name == \#* ]] && continue
  CASES=$((CASES + 1))
  run_case 1 "$name" "$file" "$want" "$flags" "$names" "$fragment" "$args"
  [[ ,$flags, == *,np2,* ]] && run_case 2 "$name" "$file" "$want" "$flags" "$names" "$fragment" "$args"
done 3<"$CORPUS/cases.tsv"
check "the corpus holds at least 30 cases ($CASES)" test "$CASES" -ge 30
echo "$CASES cases, $KNOWN known bugs (flagged bug in cases.tsv)"
finish
