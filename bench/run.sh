#!/usr/bin/env bash
# The side-by-side benchmark of workload W against its peers, the wide net and the allreduce sweep, in
# one command (as root, on Debian 12):
#
#   bench/run.sh [--rounds N] [--kernels env,native] [--quick] [--only w,sgemm,peers,wide,sweep]
#                [--wide-steps S] [--out FILE] [--raw FILE.json] [--no-accuracy] [--compare LABEL=BINARY]
#
# Installs what is missing (python3-torch, python3-sklearn, python3-threadpoolctl, libbenchmark-dev,
# time, Open MPI), builds build-bench/ (Release, -DDPMLP_BENCH=ON; CMAKE_CXX_COMPILER_LAUNCHER=ccache
# in the environment makes the first configure use ccache), then bench/run.py measures, interleaved
# in the same rounds, medians of N rounds (default 5) after a warm-up round, each row under two BLAS
# kernels: "env" (the environment as given; OPENBLAS_CORETYPE=Haswell forces the AVX2 kernel on the
# benchmark machines) and "native" (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the child
# commands only; OpenBLAS picks its AVX-512 core on Zen 5). Targets are judged at native.
#   - dpmlp samples/s on W at np=1, np=2 over shared memory and np=2 over TCP, batch 128 and 512, the
#     gradient-exchange variants, training samples per CPU-second;
#   - PyTorch 1 process / 1 thread and DistributedDataParallel (gloo, 2 processes), scikit-learn, with
#     the OpenBLAS core each ran (threadpoolctl);
#   - OpenBLAS sgemm GFLOP/s (1 and 2 threads; W's shapes and 2048^3), dpmlp's FLOP rate, peak RSS;
#   - the wide net 784-4096-2048-10 at np=1 and np=2 (batch 512, 200 steps);
#   - once: the allreduce sweep at np=2 (1 KiB - 200 MB, shm and TCP) with dpmlp's Open MPI parameters
#     and malloc policy, against fit_allreduce.py's alpha-beta trend;
# prints the tables with the ratios and the targets of docs/performance.md (MET / NOT MET) and writes
# them to bench/results-<date>.md. About 25 minutes on the quiet 2-core VM, 14 of them the wide net
# (--wide-steps 100 halves that); --quick is a smoke test of every part in about 5 minutes, written
# to build-bench/results-quick-<date>.md. Not part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

missing=()
for pkg in python3-torch python3-sklearn python3-threadpoolctl libbenchmark-dev time openmpi-bin libopenmpi-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bench/run.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DDPMLP_BENCH=ON -DDPMLP_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build-bench" -j2 --target dpmlp bench_sgemm bench_allreduce >/dev/null

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Debian's python3-torch / python3-sklearn are installed for /usr/bin/python3, whatever is first on PATH.
exec /usr/bin/python3 "$here/run.py" --build "$root/build-bench" "$@"
