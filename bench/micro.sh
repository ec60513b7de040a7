#!/usr/bin/env bash
# Google Benchmark micro-benchmarks of the step's parts (not part of the test suite):
#
#   bench/micro.sh [network|sgemm|allreduce ...]      (default: all three)
#
#   network    dpmlp::Network<float> on W: forward, backward, forward+loss+backward at batch
#              32..512, GFLOP/s of the sgemm work they hold (bench/network_bench.cc)
#   sgemm      OpenBLAS sgemm on W's shapes and 2048^3 at 1 and 2 threads (bench/sgemm_bench.cc)
#   allreduce  Communicator::AllreduceSum of 1 float .. 200 MB (1 KiB - 64 MiB in powers of 4, W's
#              and the wide net's gradients) under mpirun -np 2, over shared memory and over TCP,
#              with dpmlp's Open MPI parameters and malloc policy; rank 0 reports
#              (bench/allreduce_bench.cc). Then the fit of the alpha-beta model used in
#              docs/performance.md (bench/fit_allreduce.py). bench/run.sh runs the same sweep.
#
# Output goes to the terminal and, as JSON, to build-bench/bench/<name>[-<transport>].json.
# Extra Google Benchmark flags can be passed in BENCH_FLAGS, e.g. BENCH_FLAGS=--benchmark_repetitions=3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build-bench
which=("$@")
((${#which[@]})) || which=(network sgemm allreduce)

dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "install ok installed" ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libbenchmark-dev >/dev/null
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDPMLP_BENCH=ON -DDPMLP_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_network bench_sgemm bench_allreduce >/dev/null

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
flags=(${BENCH_FLAGS:-} --benchmark_counters_tabular=true --benchmark_color=false)
for w in "${which[@]}"; do
  case $w in
    network | sgemm)
      "$build/bench/bench_$w" "${flags[@]}" --benchmark_out="$build/bench/$w.json" --benchmark_out_format=json ;;
    allreduce)
      for transport in shm tcp; do
        btl=self,vader
        [[ $transport == tcp ]] && btl=self,tcp
        echo "== allreduce, 2 ranks, $transport ($btl)"
        mpirun -np 2 --bind-to core --map-by core --mca pml ob1 --mca btl "$btl" \
          "$build/bench/bench_allreduce" "${flags[@]}" \
          --benchmark_out="$build/bench/allreduce-$transport.json" --benchmark_out_format=json
        python3 "$here/fit_allreduce.py" "$build/bench/allreduce-$transport.json"
        python3 "$here/fit_allreduce.py" --stat min_us "$build/bench/allreduce-$transport.json"
      done ;;
    *) echo "micro.sh: unknown benchmark '$w' (network, sgemm or allreduce)" >&2; exit 2 ;;
  esac
done
