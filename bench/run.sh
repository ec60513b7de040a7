#!/usr/bin/env bash
# The side-by-side benchmark of workload W against its peers, in one command (as root, on Debian 12):
#
#   bench/run.sh [--rounds N] [--coretype-variant] [--out FILE] [--raw FILE.json]
#
# Installs what is missing (python3-torch, python3-sklearn, libbenchmark-dev, time, Open MPI),
# builds build-bench/ (Release, -DDPMLP_BENCH=ON), then bench/run.py measures, in one run and
# interleaved, medians of N rounds (default 3) after a warm-up round:
#   - dpmlp samples/s on W at np=1, np=2 over shared memory and np=2 over TCP, batch 128 and 512;
#   - PyTorch 1 process / 1 thread and DistributedDataParallel (gloo, 2 processes), scikit-learn;
#   - OpenBLAS sgemm GFLOP/s (1 and 2 threads; W's shapes and 2048^3), dpmlp's FLOP rate, peak RSS;
# prints the table with the ratios and the targets of docs/performance.md (MET / NOT MET) and writes it to
# bench/results-<date>.md. About 4-8 minutes on the 2-core VM. Not part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

missing=()
for pkg in python3-torch python3-sklearn libbenchmark-dev time openmpi-bin libopenmpi-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bench/run.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DDPMLP_BENCH=ON -DDPMLP_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build-bench" -j2 --target dpmlp bench_sgemm >/dev/null

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Debian's python3-torch / python3-sklearn are installed for /usr/bin/python3, whatever is first on PATH.
exec /usr/bin/python3 "$here/run.py" --build "$root/build-bench" "$@"
