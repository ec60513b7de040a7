// OpenBLAS sgemm rate on this machine: the eight calls of one training step of W (784-256-128-10)
// at a given per-rank batch, each call alone, and a large square product, at 1 and 2 threads.
// The "W step" figure is the ceiling dpmlp's FLOP rate is held against: the same FLOPs in the same
// shapes and transposes with nothing else in between.
//
//   bench_sgemm --benchmark_filter='W_step'        (counters: GFLOP/s)
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <vector>

#include "bench/best_iteration.h"
#include "bench/mlp_shapes.h"

namespace {

// OpenBLAS's own pool; the benchmark's thread count is its second argument.
void UseThreads(int threads) { openblas_set_num_threads(threads); }

struct Matrices {
  std::vector<float> a, b, c;
  Matrices(size_t na, size_t nb, size_t nc) : a(na, 0.01f), b(nb, 0.02f), c(nc, 0.0f) {}
};

void Gemm(const dpmlp::bench::GemmShape& g, const float* a, const float* b, float* c) {
  // Row-major, as core/blas.h calls it: op(A) is m x k, op(B) is k x n.
  const int lda = g.trans_a ? g.m : g.k, ldb = g.trans_b ? g.k : g.n;
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, g.m, g.n, g.k, 1.0f, a, lda, b, ldb, 0.0f, c,
              g.n);
}

// The buffers of one step, laid out as core/network.cc has them, so the calls reuse the same
// weights and activations through the caches as the real step does.
struct StepBuffers {
  std::vector<std::vector<float>> act, w, z, dw;  // act[0] is the input; z doubles as dC/dz
  StepBuffers(const std::vector<int>& widths, int batch) {
    const size_t layers = widths.size() - 1, b = size_t(batch);
    for (size_t l = 0; l <= layers; ++l) act.emplace_back(b * widths[l], 0.01f);
    for (size_t l = 0; l < layers; ++l) {
      w.emplace_back(size_t(widths[l + 1]) * widths[l], 0.02f);
      z.emplace_back(b * widths[l + 1], 0.0f);
      dw.emplace_back(size_t(widths[l + 1]) * widths[l], 0.0f);
    }
  }
  void Run(const dpmlp::bench::GemmShape& g) {
    using G = dpmlp::bench::GemmShape;
    const int l = g.layer;
    switch (g.kind) {
      case G::kForward:
        Gemm(g, act[l].data(), w[l].data(), z[l].data());
        break;  // z = a W^T
      case G::kWeightGrad:
        Gemm(g, z[l].data(), act[l].data(), dw[l].data());
        break;  // dW = d^T a
      case G::kInputGrad:
        Gemm(g, z[l].data(), w[l].data(), act[l].data());
        break;  // dA = d W
      case G::kOther:
        break;
    }
  }
};

// All sgemm calls of one step of an MLP with these widths at per-rank batch state.range(0),
// state.range(1) threads.
void StepBenchmark(benchmark::State& state, const std::vector<int>& widths) {
  UseThreads(static_cast<int>(state.range(1)));
  const int batch = static_cast<int>(state.range(0));
  const auto shapes = dpmlp::bench::StepGemms(widths, batch);
  StepBuffers buffers(widths, batch);
  const double best = dpmlp::bench::TimeIterations(state, [&] {
    for (const auto& g : shapes) buffers.Run(g);
  });
  const double flops = dpmlp::bench::StepFlopsPerSample(widths) * batch;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = flops * 1e-9 / best;
  state.counters["samples/s"] =
      benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_W_step(benchmark::State& state) { StepBenchmark(state, dpmlp::bench::kWorkloadW); }

// The 10x wider MLP of the cost model in docs/performance.md.
void BM_wide_step(benchmark::State& state) { StepBenchmark(state, dpmlp::bench::kWideMlp); }
BENCHMARK(BM_wide_step)
    ->ArgNames({"batch", "threads"})
    ->ArgsProduct({{32, 128, 512}, {1}})
    ->UseRealTime()
    ->MinTime(0.3);
BENCHMARK(BM_W_step)
    ->ArgNames({"batch", "threads"})
    ->ArgsProduct({{32, 64, 128, 256, 512}, {1, 2}})
    ->UseRealTime()
    ->MinTime(0.3);

// Each call of the step alone (index into StepGemms) at per-rank batch 128 or 512, 1 thread.
void BM_W_call(benchmark::State& state) {
  UseThreads(1);
  const auto shapes =
      dpmlp::bench::StepGemms(dpmlp::bench::kWorkloadW, static_cast<int>(state.range(1)));
  const auto& g = shapes.at(static_cast<size_t>(state.range(0)));
  StepBuffers buffers(dpmlp::bench::kWorkloadW, static_cast<int>(state.range(1)));
  const double best = dpmlp::bench::TimeIterations(state, [&] { buffers.Run(g); });
  state.SetLabel(g.name);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * g.m * g.n * g.k, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = 2e-9 * g.m * g.n * g.k / best;
}
BENCHMARK(BM_W_call)
    ->ArgNames({"call", "batch"})
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6, 7}, {128, 512}})
    ->MinTime(0.2);

// A large square product: the machine's sgemm ceiling.
void BM_square(benchmark::State& state) {
  UseThreads(static_cast<int>(state.range(1)));
  const int n = static_cast<int>(state.range(0));
  const dpmlp::bench::GemmShape g{"square", false, false, n, n, n};
  Matrices m(size_t(n) * n, size_t(n) * n, size_t(n) * n);
  const double best =
      dpmlp::bench::TimeIterations(state, [&] { Gemm(g, m.a.data(), m.b.data(), m.c.data()); });
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = 2e-9 * n * n * n / best;
}
// 2048: the reference "large square"; 1024 runs in ~10 ms, short enough for its best iteration to
// dodge other processes.
BENCHMARK(BM_square)
    ->ArgNames({"n", "threads"})
    ->ArgsProduct({{1024, 2048}, {1, 2}})
    ->UseRealTime()
    ->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
