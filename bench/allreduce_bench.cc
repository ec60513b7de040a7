// dpmlp::Communicator::AllreduceSum (MPI_Iallreduce SUM on floats, then MPI_Wait: the call dpmlp's
// gradient exchange makes) from 1 float to 200 MB, run under mpirun; only rank 0 reports. Every
// rank must run the same number of iterations, so they are fixed per size rather than chosen by
// the library.
//
//   mpirun -np 2 --bind-to core --mca btl self,vader bench_allreduce [--benchmark_format=json]
//          [--iterations_scale=X]   (scales every size's iteration count; X < 1 for a quick look)
//          [--sum=shared]           (Communicator::SharedSum, the host's shared-memory window that
//                                    --allreduce auto picks on one host, up to the wide net's size)
//          [--sum=scatter-gather]   (ReduceScatterSum then AllgatherInPlace: what the sharded
//                                    update sends over MPI)
//
// It measures the allreduce dpmlp trains with: the Open MPI parameters dpmlp sets before MPI_Init
// (dist/communicator.cc, applied by MpiRuntime before MPI_Init; DPMLP_MPI_DEFAULTS=off and the
// user's own --mca settings win, as in dpmlp) and dpmlp's malloc policy (launcher/main.cc). Both
// are written into the JSON's context (openmpi_mca, malloc).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/communicator.h"

namespace {

dpmlp::Communicator* g_comm = nullptr;
bool g_shared = false;       // --sum=shared
bool g_scatter = false;      // --sum=scatter-gather
std::vector<float> g_share;  // this rank's share of the sums (--sum=scatter-gather)

// The shared sum as training runs it: the gradients are written into the window's slot (here
// once, before the loop) and read from its result block; no copy is timed.
// --sum=scatter-gather: what the sharded update (ZeRO-1) sends, a reduce-scatter of the sums into
// each rank's share and an allgather of the shares (the update between them is not timed).
void Sum(float* data, size_t n) {
  if (g_shared) {
    g_comm->SharedSum();
  } else if (g_scatter) {
    const size_t p = static_cast<size_t>(g_comm->size()), r = static_cast<size_t>(g_comm->rank());
    std::vector<size_t> shares;
    for (size_t i = 0; i < p; ++i) shares.push_back(n * (i + 1) / p - n * i / p);
    g_share.resize(shares[r]);
    g_comm->ReduceScatterSum(data, g_share.data(), shares);
    std::copy(g_share.begin(), g_share.end(), data + n * r / p);
    g_comm->AllgatherInPlace(data, shares);
  } else {
    g_comm->AllreduceSum(data, n);
  }
}

// The same calls as KeepLargeBlocksOnHeap() in launcher/main.cc (which is not in a library): large
// blocks from the heap instead of a fresh mmap per malloc, and freed heap kept mapped, so Open
// MPI's per-call temporary of the message size is not page-faulted and zero-filled every call.
void KeepLargeBlocksOnHeap() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

// Counters besides Google Benchmark's mean time: the median and the minimum over the iterations
// (a shared machine adds long outliers; the minimum is the quiet-machine floor). algbw = bytes /
// median time, busbw = algbw x 2(p-1)/p (the bytes one rank's link carries in a ring allreduce).
void BM_allreduce(benchmark::State& state, size_t n) {
  std::vector<float> buf(n, 1.0f);
  if (g_shared) {
    if (!g_comm->PrepareSharedSum(n)) {
      state.SkipWithError("no shared-memory window (ranks on several hosts?)");
      return;
    }
    std::fill(g_comm->SharedSlot(), g_comm->SharedSlot() + n, 1.0f);
  }
  for (int i = 0; i < 3; ++i) Sum(buf.data(), n);  // warm-up: connections, pages
  std::vector<double> times;
  times.reserve(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Sum(buf.data(), n);
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

// Sizes in floats: 1, 10 and 100 (latency only: fit_allreduce.py's alpha), 1 KiB .. 64 MiB in
// powers of 4, W's gradient buffer (235146 parameters + the 5-float tail), the wide net's
// (784-4096-2048-10: 11626506 parameters + 5, 46.5 MB) and 200 MB. Iterations (the same on every
// rank, so the collectives pair up) from a budget of 2 GB per size, 5 .. 20000, times the scale.
void RegisterSizes(double scale) {
  std::vector<size_t> sizes = {1, 10, 100};
  for (size_t n = 256; n <= (size_t(16) << 20); n *= 4) sizes.push_back(n);
  sizes.insert(sizes.end(), {235151, 11626511});
  if (!g_shared) sizes.push_back(50000000);
  std::sort(sizes.begin(), sizes.end());
  for (const size_t n : sizes) {
    const double budget = 2e9 / (4.0 * double(n));
    const auto iters =
        static_cast<int64_t>(std::max(3.0, std::round(scale * std::clamp(budget, 5.0, 20000.0))));
    benchmark::RegisterBenchmark(("BM_allreduce/floats:" + std::to_string(n)).c_str(), BM_allreduce,
                                 n)
        ->Iterations(iters)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

// Removes --iterations_scale=X from argv (Google Benchmark does not know it); returns X (1 if not
// given).
double TakeIterationsScale(int* argc, char** argv) {
  double scale = 1.0;
  int kept = 0;
  for (int i = 0; i < *argc; ++i) {
    if (std::strncmp(argv[i], "--iterations_scale=", 19) == 0)
      scale = std::atof(argv[i] + 19);
    else if (std::strcmp(argv[i], "--sum=scatter-gather") == 0)
      g_scatter = true;
    else if (std::strcmp(argv[i], "--sum=shared") == 0)
      g_shared = true;
    else
      argv[kept++] = argv[i];
  }
  *argc = kept;
  return scale > 0 ? scale : 1.0;
}

// What this process runs with: each parameter dpmlp sets, with the value in effect (dpmlp's, or
// the user's when the environment or mpirun --mca already set it, or "Open MPI default" when
// DPMLP_MPI_DEFAULTS=off left it unset).
void DescribeSetup() {
  std::string mca;
  for (const dpmlp::MpiDefault& d : dpmlp::OpenMpiDefaults()) {
    const char* v = std::getenv((std::string("OMPI_MCA_") + d.name).c_str());
    mca += std::string(mca.empty() ? "" : ", ") + d.name + "=" + (v ? v : "(Open MPI default)");
  }
  benchmark::AddCustomContext("openmpi_mca", mca);
  benchmark::AddCustomContext("malloc", "mallopt M_MMAP_MAX=0, M_TRIM_THRESHOLD=256 MiB (dpmlp's)");
}

// Prints nothing: the reporter of ranks other than 0.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  KeepLargeBlocksOnHeap();  // first, as dpmlp's main() does
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
  RegisterSizes(TakeIterationsScale(&argc, argv));
  DescribeSetup();
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
