// The fastest iteration of a Google Benchmark loop. On a machine shared with other work, the mean
// mixes in time our thread spent descheduled; an iteration shorter than a scheduler slice often
// runs undisturbed, so the fastest one estimates what the code does on a quiet machine. Benchmarks
// report both: the mean-based rate (what a user sees now) and the best-iteration rate.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace dpmlp {
namespace bench {

// Runs body() once per benchmark iteration and returns the shortest iteration in seconds.
template <typename Body>
double TimeIterations(benchmark::State& state, Body&& body) {
  double best = std::numeric_limits<double>::infinity();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace bench
}  // namespace dpmlp
