#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the installed binary runs and trains, the man page
# documents every option of every subcommand (read from the binary's own --help), bash completion
# completes subcommands, options and file arguments, and the docs and examples are installed.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK" || exit 1
BUILD=$(dirname "$DPMLP")
P=$WORK/prefix
COMMANDS=(train eval predict info export inspect plot)

expect_exit 0 "cmake --install into a temporary prefix" cmake --install "$BUILD" --prefix "$P"
BIN=$P/bin/dpmlp
check "the installed binary is executable" test -x "$BIN"
check "it reports the build's version" test "$("$BIN" --version)" = "$("$DPMLP" --version)"
DOC=$P/share/doc/dpmlp
expect_exit 0 "the installed binary trains the installed example sin.ini (2 epochs)" \
  "$BIN" train --config "$DOC/examples/sin.ini" --epochs 2 --progress off --save-model "$WORK/sin.pb"
expect_exit 0 "and reads back what it saved" "$BIN" info --model "$WORK/sin.pb"

# --- man page ------------------------------------------------------------------------------------
MAN=$P/share/man/man1/dpmlp.1
check "dpmlp.1 is installed" test -s "$MAN"
check "dpmlp.1 has its title header" grep -q '^\.TH DPMLP "1"' "$MAN"
for c in "${COMMANDS[@]}"; do
  want=$("$DPMLP" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  missing=""
  for o in $want; do grep -qF -- "${o//-/\\-}" "$MAN" || missing+=" $o"; done
  check "dpmlp.1 has a '$c' section" grep -q "^\.SH \"DPMLP ${c^^}\"" "$MAN"
  check "dpmlp.1 documents all $(wc -w <<<"$want") options of '$c'${missing:+ (missing:$missing)}" \
    test -z "$missing"
done
check "dpmlp.1 lists the exit codes" grep -q "75 stopped by a signal" "$MAN"

# --- bash completion -----------------------------------------------------------------------------
COMP=$P/share/bash-completion/completions/dpmlp
check "the completion is installed" test -s "$COMP"
# complete WORDS...: what the completion offers for the command line WORDS (the last is completed).
complete_line() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dpmlp
    printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@"
}
check "'dpmlp tr<TAB>' completes to train" test "$(complete_line "$BIN" tr)" = train
check "'dpmlp <TAB>' offers every subcommand" \
  test "$(complete_line "$BIN" "" | grep -cxE "$(IFS='|'; echo "${COMMANDS[*]}")")" = "${#COMMANDS[@]}"
check "'dpmlp train --lay<TAB>' completes to --layers" \
  test "$(complete_line "$BIN" train --lay)" = --layers
check "'dpmlp export --for<TAB>' completes to --format" \
  test "$(complete_line "$BIN" export --for)" = --format
want=$("$DPMLP" eval --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
check "'dpmlp eval --<TAB>' offers exactly eval's options" \
  test "$(complete_line "$BIN" eval -- | sort -u)" = "$want"
touch "$WORK/model-a.pb"
check "'dpmlp eval --model $WORK/model-<TAB>' completes the file" \
  test "$(complete_line "$BIN" eval --model "$WORK/model-")" = "$WORK/model-a.pb"

# --- docs and examples ---------------------------------------------------------------------------
check "README.md is installed unchanged" cmp -s "$REPO/README.md" "$DOC/README.md"
for f in "$REPO"/docs/*.md "$REPO"/examples/*; do
  rel=${f#"$REPO"/}
  check "$rel is installed unchanged" cmp -s "$f" "$DOC/$rel"
done
finish
