# End-to-end: the command line as a user meets it. No option is guessed from a prefix, and an
# unknown option or config key gets the nearest real names; --help shows defaults as written and
# no empty heading; --dataset errors list every choice; `info --json` is one JSON document in
# every form; --print-config writes an INI file that repeats the run bit for bit; train names the
# model file it saved; small losses keep their significant digits.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
SIN=(--dataset sin --layers 8 --epochs 1 --progress off)

# --- no prefix guessing; did you mean -----------------------------------------------------------
expect_exit 2 "train --layer 3 (a prefix of --layers) is refused" "$DPMLP" train --layer 3 "${SIN[@]:0:2}"
stderr_names "--layer" "dpmlp: error: train:" "'--layer'" "did you mean --layers?"
check "... and nothing was trained" test ! -s last.out
expect_exit 2 "train --momentun 0.5 (a typo)" "$DPMLP" train --momentun 0.5 "${SIN[@]}"
stderr_names "--momentun" "'--momentun'" "did you mean --momentum?"
# --l begins several options: every one of them, as train --help lists them, is named.
"$DPMLP" train --help >train.help
mapfile -t ELL < <(grep -oE -- '--l[a-z0-9-]*' train.help | sort -u)
expect_exit 2 "train --l 3 (a prefix of ${#ELL[@]} options)" "$DPMLP" train --l 3 "${SIN[@]}"
check "--l: more than one candidate in train --help (${ELL[*]})" test "${#ELL[@]}" -ge 2
stderr_names "--l" "'--l'" "options starting with --l:" "${ELL[@]}"
expect_exit 2 "info --jsn" "$DPMLP" info --jsn
stderr_names "info --jsn" "did you mean --json?"
expect_exit 2 "a word far from every option" "$DPMLP" train --zzzzzzzz 1
stderr_names "--zzzzzzzz" "unrecognised option '--zzzzzzzz'"
check "... with no made-up suggestion" bash -c "! grep -qE 'did you mean|starting with' '$WORK/last.err'"

# Config files: keys are matched whole too, and an unknown one is named with its file and line.
printf 'epochs = 1\nlayer = 4\n' >typo.ini
expect_exit 2 "config key 'layer' (a prefix of layers)" "$DPMLP" train --config typo.ini "${SIN[@]:0:2}"
stderr_names "config key 'layer'" "typo.ini:2:" "'layer'" "did you mean layers?"
printf '# run\n\nepochs = 1\nsigmoid_k = 2\n' >under.ini
expect_exit 2 "config key 'sigmoid_k'" "$DPMLP" train --config under.ini "${SIN[@]:0:2}"
stderr_names "config key 'sigmoid_k'" "under.ini:4:" "did you mean sigmoid-k?"
printf '[train]\nepochs = 1\n' >section.ini
expect_exit 2 "config key under a [section]" "$DPMLP" train --config section.ini "${SIN[@]:0:2}"
stderr_names "config [section]" "section.ini:2:" "did you mean epochs (outside any [section])?"

# --- --help: defaults as written, no empty heading ----------------------------------------------
check "train --help shows --lr's default as 0.05" grep -qE -- '--lr arg \(=0\.05\)' train.help
check "train --help shows --momentum's default as 0.9" grep -qE -- '--momentum arg \(=0\.9\)' train.help
for c in train eval predict info export inspect plot; do
  "$DPMLP" "$c" --help >"$c.help"
  check "$c --help: no default printed with binary noise (0.0500000..., 0.899999...)" \
    bash -c "! grep -qE '\(=[-0-9.e+]*(0000000|9999999)' '$c.help'"
  # A heading is "Caption:" at the start of a line; an option line follows it unless it is empty.
  check "$c --help: every heading has options under it" awk '
    prev != "" { if ($0 !~ /^  -/) bad = 1; prev = "" }
    /^[^ ].*:$/ && !/^usage:/ { prev = $0 }
    END { exit bad || prev != "" }' "$c.help"
done

# --- --update: the choices, and what it does not go with ------------------------------------------
expect_exit 2 "train --update bogus" "$DPMLP" train --update bogus "${SIN[@]}"
stderr_names "--update bogus" "--update must be auto, replicated or sharded" "'bogus'"
expect_exit 2 "train --update sharded --grad-wire bf16" "$DPMLP" train --update sharded --grad-wire bf16 "${SIN[@]}"
stderr_names "--update sharded with bf16" "--update sharded" "--grad-wire bf16"

# --- --dataset: every choice named, and every named choice accepted -----------------------------
expect_exit 2 "train --dataset bogus" "$DPMLP" train --dataset bogus --layers 4 --epochs 1
stderr_names "--dataset bogus" "--dataset bogus" fashion-mnist mnist csv npy sin surface parity:N
choices=$(sed -n 's/.*unknown data set (valid: \(.*\))$/\1/p' last.err)
expect_exit 2 "info --dataset bogus lists the same choices" "$DPMLP" info --dataset bogus
check "info and train give the same list ($choices)" \
  test -n "$choices" -a "$(sed -n 's/.*unknown data set (valid: \(.*\))$/\1/p' last.err)" = "$choices"
IFS=', ' read -r -a names <<<"${choices%% with *}"
for name in "${names[@]}"; do
  [ "$name" = parity:N ] && name=parity:3
  # csv and npy need their files, fashion-mnist and mnist the IDX directory: any error but
  # "unknown data set" shows the name is accepted.
  "$DPMLP" info --dataset "$name" --layers 4 >/dev/null 2>ds.err
  check "--dataset $name, named in the list, is a data set dpmlp knows" \
    bash -c "! grep -q 'unknown data set' ds.err"
done

# --- print-config: the run again, bit for bit --------------------------------------------------
RUN=(--dataset sin --layers 7,5 --activation sigmoid --sigmoid-k 0.7 --lr 0.037 --momentum 0.85
  --epochs 3 --batch-size 20 --seed 0042 --weight-decay 1e-5 --dropout 0.1 --lr-schedule cosine
  --min-lr 0.001 --progress off)
expect_exit 0 "train --print-config" "$DPMLP" train "${RUN[@]}" --print-config
cp last.out printed.ini
check "--print-config trained nothing and saved nothing" bash -c "! grep -q '^final:' printed.ini"
# printed_has LINE...: printed.ini holds every LINE, whole.
printed_has() { local l; for l in "$@"; do grep -qxF -- "$l" printed.ini || return 1; done; }
check "printed: floats in their shortest text (lr = 0.037, sigmoid-k = 0.7, weight-decay = 1e-05)" \
  printed_has 'lr = 0.037' 'sigmoid-k = 0.7' 'weight-decay = 1e-05'
check "printed: the seed as its integer (0042 -> 42)" printed_has 'seed = 42'
check "printed: defaults included (momentum given; keep, grad-wire, nesterov defaulted)" \
  printed_has 'momentum = 0.85' 'keep = 3' 'grad-wire = fp32' 'nesterov = false'
check "printed: an option with no value and no default is a comment (# save-model =)" \
  printed_has '# save-model =' '# threads ='

check "printed: one '# Group' comment per group of train --help" test \
  "$(grep -E '^# (Data|Model|Training|Checkpoints)$' printed.ini | tr '\n' ,)" = "# Data,# Model,# Training,# Checkpoints,"
check "printed: every line a 'key = value', a comment or blank" \
  bash -c "! grep -vE '^([a-z0-9-]+ = .*|#.*|)$' printed.ini"
# Every long option of train --help, but --help, --config and --print-config, exactly once.
want=$(grep -oE -- '^  (-[a-z] \[ )?--[a-z0-9-]+' train.help | sed 's/.*--//' |
  grep -vxE 'help|config|print-config' | sort)
got=$(sed -nE 's/^(# )?([a-z0-9-]+) =.*/\2/p' printed.ini | sort)
check "printed: every option of train --help once, without help/config/print-config ($(wc -w <<<"$want") keys)" \
  test -n "$want" -a "$want" = "$got"
# --help and --print-config show each default in the same text.
mismatch=""
while read -r key value; do
  shown=$(grep -oE -- "^  --$key arg \(=[^)]*\)" train.help | sed 's/.*(=\(.*\))/\1/')
  [ -n "$shown" ] && [ "$shown" != "$value" ] && [[ " ${RUN[*]} " != *" --$key "* ]] && mismatch+=" $key:$shown/$value"
done < <(sed -nE 's/^([a-z0-9-]+) = (.*)$/\1 \2/p' printed.ini)
check "--help's defaults are the printed defaults${mismatch:+ (differ:$mismatch)}" test -z "$mismatch"

expect_exit 0 "train with the original options" "$DPMLP" train "${RUN[@]}" --save-model orig.pb
cp last.out orig.out
expect_exit 0 "train --config printed.ini" "$DPMLP" train --config printed.ini --save-model again.pb
check "the two runs' models are bitwise equal" grep -q 'bitwise yes' <("$MODEL_DIFF" orig.pb again.pb)
check "... and print the same final line" test "$(final_line orig.out)" = "$(final_line last.out)" \
  -a -n "$(final_line orig.out)"
expect_exit 0 "print-config of --config printed.ini with --lr 0.02 on the command line" \
  "$DPMLP" train --config printed.ini --lr 0.02 --print-config
check "... the command line wins, the rest is the file's" \
  test "$(grep -v '^lr = ' last.out)" = "$(grep -v '^lr = ' printed.ini)" -a "$(grep -c '^lr = 0.02$' last.out)" = 1
expect_exit 0 "print-config under mpirun -np 2" "${MPIRUN[@]}" -np 2 "$DPMLP" train "${RUN[@]}" --print-config
check "... rank 0 alone prints it, the same text" test "$(cat last.out)" = "$(cat printed.ini)"
expect_exit 2 "print-config checks the ranges first (--lr -1)" "$DPMLP" train "${RUN[@]}" --lr -1 --print-config
stderr_names "print-config --lr -1" "--lr"
expect_exit 2 "print-config of a path an INI file cannot hold ('#')" \
  "$DPMLP" train "${RUN[@]}" --metrics 'a#b.jsonl' --print-config
stderr_names "print-config a#b" "--metrics" "a#b.jsonl"
expect_exit 0 "info --print-config" "$DPMLP" info --layers 16 --json --print-config
check "... names info's own options" grep -qx 'json = true' last.out

# --- the saved-model line ----------------------------------------------------------------------
check "train --save-model orig.pb says 'saved model: orig.pb'" grep -qx 'saved model: orig.pb' orig.out
expect_exit 0 "train without --save-model" "$DPMLP" train "${SIN[@]}"
check "... says nothing about a saved model" bash -c "! grep -q '^saved model' '$WORK/last.out'"

# --- info --json: one JSON document in every form -----------------------------------------------
expect_exit 0 "a checkpoint for info" "$DPMLP" train "${SIN[@]}" --checkpoint-dir ck --save-model m.pb
ckpt=$(ls ck/ckpt-*.pb | tail -1)
json_doc() { python3 -c 'import json, sys; json.load(sys.stdin)' <last.out 2>/dev/null; }
for form in "--layers 16,16" "--dataset sin --layers 4" "--dataset parity:4 --layers 8,8" \
  "--model m.pb" "--checkpoint $ckpt" "--blas" ""; do
  # shellcheck disable=SC2086 # the form is several words
  expect_exit 0 "info ${form:-(no options)} --json" "$DPMLP" info $form --json
  check "... stdout is one JSON document" json_doc
done
expect_exit 0 "info --dataset sin --layers 4 (text)" "$DPMLP" info --dataset sin --layers 4
text_params=$(sed -n 's/^parameters: //p' last.out)
expect_exit 0 "info --dataset sin --layers 4 --json" "$DPMLP" info --dataset sin --layers 4 --json
check "the JSON parameter count is the text's ($text_params)" test -n "$text_params" -a \
  "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["parameters"])' <last.out)" = "$text_params"
expect_exit 2 "info --model and --checkpoint together" "$DPMLP" info --model m.pb --checkpoint "$ckpt" --json
stderr_names "info with both" "dpmlp: error: give --model or --checkpoint, not both"
check "... and nothing on stdout" test ! -s last.out

# --- small numbers keep their digits ------------------------------------------------------------
# sin with steep neurons fits to an MSE far below 1e-4 (examples/README.md): the final line
# shows it to 4 significant digits, as the metrics file has it.
expect_exit 0 "sin, k = 10" "$DPMLP" train --config "$REPO/examples/sin.ini" --sigmoid-k 10 \
  --progress off --metrics sin.jsonl
mse=$(final_line last.out | sed -n 's/^final: test mse \([^ ]*\) .*/\1/p')
want=$(python3 -c 'import json, sys; print("%.4g" % json.loads(open(sys.argv[1]).read().splitlines()[-1])["test_mse"])' sin.jsonl)
check "final test mse $mse is the last epoch's $want to 4 significant digits" test -n "$mse" -a "$mse" = "$want"
check "... a small value ($mse < 1e-4) printed in exponent form, not as 0.000001" \
  bash -c "[[ '$mse' =~ ^[1-9]([.][0-9]+)?e-[0-9]+$ ]]"
check "the per-epoch lines show it the same way" \
  grep -qE "^epoch [0-9]+/[0-9]+ .* test mse $mse " last.out
finish
