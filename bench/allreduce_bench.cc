// dpmlp::Communicator::AllreduceSum (MPI_Allreduce SUM on floats) for 1 .. 10^7 floats, run under
// mpirun; only rank 0 reports. Every rank must run the same number of iterations, so they are fixed
// per size rather than chosen by the library.
//
//   mpirun -np 2 --bind-to core --mca btl self,vader bench_allreduce [--benchmark_format=json]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/communicator.h"

namespace {

dpmlp::Communicator* g_comm = nullptr;

// Counters besides Google Benchmark's mean time: the median and the minimum over the iterations
// (a shared machine adds long outliers; the minimum is the quiet-machine floor). algbw = bytes /
// median time, busbw = algbw x 2(p-1)/p (the bytes one rank's link carries in a ring allreduce).
void BM_allreduce(benchmark::State& state, size_t n) {
  std::vector<float> buf(n, 1.0f);
  for (int i = 0; i < 3; ++i) g_comm->AllreduceSum(buf.data(), n);  // warm-up: connections, pages
  std::vector<double> times;
  times.reserve(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    g_comm->AllreduceSum(buf.data(), n);
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(t);
    times.push_back(t);
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2], p = g_comm->size(), bytes = 4.0 * double(n);
  state.counters["ranks"] = p;
  state.counters["bytes"] = bytes;
  state.counters["median_us"] = 1e6 * median;
  state.counters["min_us"] = 1e6 * times.front();
  state.counters["algbw_GB/s"] = bytes * 1e-9 / median;
  state.counters["busbw_GB/s"] = bytes * 1e-9 / median * 2.0 * (p - 1) / p;
}

// Sizes and fixed iteration counts (the same on every rank, so the collectives pair up): about
// 0.05-0.5 s per size on shared memory. 235151 is W's gradient buffer (235146 parameters + 5).
void RegisterSizes() {
  const std::pair<size_t, int64_t> runs[] = {
      {1, 20000},     {10, 20000},   {100, 20000},   {1000, 10000}, {10000, 4000},
      {100000, 1000}, {235151, 400}, {1000000, 100}, {3000000, 40}, {10000000, 15}};
  for (const auto& [n, iters] : runs)
    benchmark::RegisterBenchmark(("BM_allreduce/floats:" + std::to_string(n)).c_str(), BM_allreduce,
                                 n)
        ->Iterations(iters)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
}

// Prints nothing: the reporter of ranks other than 0.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  dpmlp::MpiRuntime mpi(&argc, &argv);
  std::unique_ptr<dpmlp::Communicator> comm = mpi.WorldCommunicator();
  g_comm = comm.get();
  if (comm->rank() != 0) {
    // Only rank 0 may write --benchmark_out: another rank opening it would truncate rank 0's file.
    int kept = 0;
    for (int i = 0; i < argc; ++i)
      if (std::strncmp(argv[i], "--benchmark_out", 15) != 0) argv[kept++] = argv[i];
    argc = kept;
  }
  RegisterSizes();
  benchmark::Initialize(&argc, argv);
  if (comm->rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    SilentReporter silent;
    benchmark::RunSpecifiedBenchmarks(&silent);
  }
  benchmark::Shutdown();
  return 0;
}
