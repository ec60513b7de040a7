#!/usr/bin/env bash
# Where one dpmlp process spends its time on workload W: perf samples (cpu-clock, DWARF call
# stacks) of one training epoch, bucketed by bench/perf_breakdown.py into startup, evaluation
# and the parts of the training step.
#
#   bench/profile.sh [BATCH] [extra dpmlp train options...]     (default batch 128)
#
# Needs `perf` (Debian: linux-perf) and kernel.perf_event_paranoid <= 2. Builds build-bench if
# DPMLP_BIN is not given.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
batch=${1:-128}
shift || true
bin=${DPMLP_BIN:-$root/build-bench/dpmlp}
if [[ -z "${DPMLP_BIN:-}" ]]; then
  cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DDPMLP_BENCH=ON >/dev/null
  cmake --build "$root/build-bench" -j2 --target dpmlp >/dev/null
fi
command -v perf >/dev/null || { echo "perf not found: apt-get install -y linux-perf" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 -o "$tmp/perf.data" \
  "$bin" train --layers 256,128 --activation relu --batch-size "$batch" --lr 0.05 --momentum 0.9 \
  --threads 1 --progress off --epochs 1 "$@" | grep samples/s
perf script -F ip,sym -i "$tmp/perf.data" 2>/dev/null | python3 "$here/perf_breakdown.py"
