// dpmlp::Network<float> on W (784-256-128-10, ReLU, softmax cross-entropy), one OpenBLAS thread:
// forward, backward and the whole forward + loss + backward at per-rank batch 32..512, with the
// GFLOP/s of the sgemm work they contain (the fused passes count no FLOPs, so overhead shows as a
// lower rate than bench_sgemm's W_step at the same batch).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdint>
#include <vector>

#include "bench/best_iteration.h"
#include "bench/mlp_shapes.h"
#include "core/model_spec.h"
#include "core/network.h"

namespace {

dpmlp::ModelSpec SpecW() {
  dpmlp::ModelSpec s;
  s.input_dim = dpmlp::bench::kWorkloadW.front();
  s.hidden.assign(dpmlp::bench::kWorkloadW.begin() + 1, dpmlp::bench::kWorkloadW.end() - 1);
  s.output_dim = dpmlp::bench::kWorkloadW.back();
  s.activation = dpmlp::ActKind::kRelu;
  s.init = dpmlp::InitKind::kHe;
  return s;
}

struct Fixture {
  dpmlp::Network<float> net;
  std::vector<float> grads;
  std::vector<float> x;
  std::vector<int32_t> labels;
  int rows;
  explicit Fixture(int batch)
      : net(SpecW(), batch),
        grads(net.layout().size()),
        x(size_t(batch) * 784),
        labels(batch),
        rows(batch) {
    openblas_set_num_threads(1);
    dpmlp::InitializeParams(net.spec(), 1, net.params().data());
    for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 2654435761u) % 255) / 255.0f - 0.5f;
    for (int r = 0; r < batch; ++r) labels[r] = r % 10;
  }
};

// FLOPs per sample of the forward sgemms and of the backward ones.
double ForwardFlops() {
  double f = 0;
  for (const auto& g : dpmlp::bench::StepGemms(dpmlp::bench::kWorkloadW, 1))
    if (g.name.rfind("fwd", 0) == 0) f += 2.0 * g.m * g.n * g.k;
  return f;
}
double StepFlops() { return dpmlp::bench::StepFlopsPerSample(dpmlp::bench::kWorkloadW); }

void Report(benchmark::State& state, double flops_per_sample, double best_seconds) {
  const double b = double(state.range(0));
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_sample * b * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples/s"] =
      benchmark::Counter(b, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = flops_per_sample * b * 1e-9 / best_seconds;
}

void BM_forward(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const double best = dpmlp::bench::TimeIterations(state, [&] {
    f.net.Forward(f.x.data(), f.rows);
    benchmark::DoNotOptimize(f.net.output());
  });
  Report(state, ForwardFlops(), best);
}

void BM_backward(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  f.net.Forward(f.x.data(), f.rows);
  f.net.Loss(f.rows, f.labels.data(), nullptr, true);
  const double best = dpmlp::bench::TimeIterations(state, [&] {
    f.net.Backward(f.x.data(), f.rows, f.grads.data());
    benchmark::DoNotOptimize(f.grads.data());
  });
  Report(state, StepFlops() - ForwardFlops(), best);
}

void BM_forward_loss_backward(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const double best = dpmlp::bench::TimeIterations(state, [&] {
    f.net.Forward(f.x.data(), f.rows);
    benchmark::DoNotOptimize(f.net.Loss(f.rows, f.labels.data(), nullptr, true));
    f.net.Backward(f.x.data(), f.rows, f.grads.data());
    benchmark::DoNotOptimize(f.grads.data());
  });
  Report(state, StepFlops(), best);
}

BENCHMARK(BM_forward)->ArgName("batch")->RangeMultiplier(2)->Range(32, 512)->MinTime(0.2);
BENCHMARK(BM_backward)->ArgName("batch")->RangeMultiplier(2)->Range(32, 512)->MinTime(0.2);
BENCHMARK(BM_forward_loss_backward)
    ->ArgName("batch")
    ->RangeMultiplier(2)
    ->Range(32, 512)
    ->MinTime(0.2);

}  // namespace

BENCHMARK_MAIN();
