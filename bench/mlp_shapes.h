// The sgemm calls one training step of an MLP makes in core/network.cc, as row-major shapes, so
// benchmarks can time exactly those products without the rest of the step.
#pragma once

#include <string>
#include <vector>

namespace dpmlp {
namespace bench {

// Layer widths, input first: W is 784-256-128-10.
inline const std::vector<int> kWorkloadW = {784, 256, 128, 10};
// Ten times wider hidden layers: the second MLP of the cost model (docs/performance.md).
inline const std::vector<int> kWideMlp = {784, 2560, 1280, 10};

struct GemmShape {
  enum Kind { kForward, kWeightGrad, kInputGrad, kOther };
  std::string name;
  bool trans_a, trans_b;
  int m, n, k;  // op(A) m x k, op(B) k x n
  Kind kind = kOther;
  int layer = 0;
};

// Forward z = x W^T per layer; backward dW = d^T x per layer and dA = d W for every layer but the
// first (its input needs no gradient). FLOPs sum to batch x (2 fwd + 2 wgrad) x weights + 2 x batch
// x (weights above the first layer).
inline std::vector<GemmShape> StepGemms(const std::vector<int>& widths, int batch) {
  std::vector<GemmShape> g;
  const int layers = static_cast<int>(widths.size()) - 1;
  for (int l = 0; l < layers; ++l)
    g.push_back({"fwd" + std::to_string(l + 1), false, true, batch, widths[l + 1], widths[l],
                 GemmShape::kForward, l});
  for (int l = layers - 1; l >= 0; --l) {
    g.push_back({"wgrad" + std::to_string(l + 1), true, false, widths[l + 1], widths[l], batch,
                 GemmShape::kWeightGrad, l});
    if (l > 0)
      g.push_back({"igrad" + std::to_string(l + 1), false, false, batch, widths[l], widths[l + 1],
                   GemmShape::kInputGrad, l});
  }
  return g;
}

// FLOPs of one sample's step (forward + backward), from the layer shapes.
inline double StepFlopsPerSample(const std::vector<int>& widths) {
  double f = 0;
  for (const GemmShape& s : StepGemms(widths, 1)) f += 2.0 * s.m * s.n * s.k;
  return f;
}

}  // namespace bench
}  // namespace dpmlp
