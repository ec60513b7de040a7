#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang-14 (address + undefined-behaviour sanitizers) into
# build-fuzz/ and runs each for SECONDS (default 60), one at a time at nice 10:
#
#   bash tests/fuzz/run.sh [SECONDS] [idx|csv|config|checkpoint ...]
#
# FUZZ_RUNS=N in the environment also stops each harness after N executions.
# Each harness starts from its seeds in tests/fuzz/corpus/<name>/ and keeps what it finds in
# build-fuzz/corpus/<name>/ (reused by the next run). A crash, leak, timeout or out-of-memory is
# written to build-fuzz/artifacts/<name>/ (reproduce: build-fuzz/tests/<name>_fuzz FILE; minimise:
# add -minimize_crash=1 -runs=100000). Ends with one line per harness (executions, exec/s, crashes)
# and fails when any harness found one. Needs: apt-get install clang-14 libclang-rt-14-dev.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${1:-60}
shift || true
HARNESSES=("$@")
[ ${#HARNESSES[@]} -eq 0 ] && HARNESSES=(idx csv config checkpoint)
BUILD=$REPO/build-fuzz

command -v clang++-14 >/dev/null || { echo "clang++-14 missing: apt-get install clang-14 libclang-rt-14-dev" >&2; exit 2; }
mkdir -p "$BUILD"
CC=clang-14 CXX=clang++-14 cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDPMLP_SANITIZE=ON -DDPMLP_FUZZ=ON >"$BUILD/configure.log" 2>&1 ||
  { cat "$BUILD/configure.log"; exit 2; }
targets=()
for h in "${HARNESSES[@]}"; do targets+=("${h}_fuzz"); done
nice -n 10 cmake --build "$BUILD" -j2 --target "${targets[@]}" || exit 2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary=()
status=0
for h in "${HARNESSES[@]}"; do
  corpus=$BUILD/corpus/$h artifacts=$BUILD/artifacts/$h log=$BUILD/fuzz-$h.log
  mkdir -p "$corpus" "$artifacts"
  echo "== $h: ${SECONDS_EACH}s, log $log"
  nice -n 10 "$BUILD/tests/${h}_fuzz" -max_total_time="$SECONDS_EACH" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
    -timeout=10 -rss_limit_mb=2048 \
    -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "$REPO/tests/fuzz/corpus/$h" >"$log" 2>&1 &
  pid=$!
  wait "$pid"
  rc=$?
  rm -f /dev/shm/dpmlp-fuzz-"$pid"-*
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(find "$artifacts" -type f | wc -l)
  [ "$rc" -ne 0 ] && status=1 && grep -m3 -E '^==[0-9]+==ERROR|runtime error|property violated|deadly signal|out-of-memory' "$log"
  summary+=("$(printf '%-11s %12s executions  %8s exec/s  %s crash file(s) in %s  (exit %s)' \
    "$h" "${runs:-?}" "${rate:-?}" "$crashes" "${artifacts#"$REPO"/}" "$rc")")
done
printf '%s\n' "${summary[@]}"
exit "$status"
