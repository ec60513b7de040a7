// Neuron inspection against hand-built networks whose answers follow from the formulas: effective
// intervals (-b/w, 8/(k|w|), half-lines, undoing the input normalisation), dead and saturated
// neurons, ablation effects computed by hand, and ablation through the tail networks checked
// against zeroing the weights and running the whole network.
#include "core/inspect.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace dpmlp {
namespace {

ModelSpec Spec(int input_dim, std::vector<int> hidden, int output_dim, ActKind act) {
  ModelSpec s;
  s.input_dim = input_dim;
  s.hidden = std::move(hidden);
  s.output_dim = output_dim;
  s.activation = act;
  s.output = OutputKind::kIdentity;
  s.loss = LossKind::kMse;
  return s;
}

// Sets layer l's weight (pre x in, row-major) and bias in the flat buffer.
void SetLayer(const ModelSpec& spec, int l, const std::vector<float>& w,
              const std::vector<float>& b, std::vector<float>* params) {
  const LayerSlot s = ParamLayout(spec).layers()[l];
  ASSERT_EQ(w.size(), size_t(s.pre) * s.in);
  ASSERT_EQ(b.size(), size_t(s.pre));
  std::copy(w.begin(), w.end(), params->begin() + s.weight_offset);
  std::copy(b.begin(), b.end(), params->begin() + s.bias_offset);
}

// Runs the probe over x (one feature per row unless input_dim says otherwise) in chunks.
InspectionReport Inspect(const ModelSpec& spec, const std::vector<float>& params,
                         const std::vector<float>& x, const std::vector<int32_t>& labels,
                         const std::vector<float>& targets, int chunk,
                         const InputTransform& t = {}) {
  NeuronProbe probe(spec, params, chunk);
  const int n = static_cast<int>(x.size()) / spec.input_dim;
  for (int at = 0; at < n; at += chunk) {
    const int rows = std::min(chunk, n - at);
    probe.Add(x.data() + size_t(at) * spec.input_dim, rows,
              labels.empty() ? nullptr : labels.data() + at,
              targets.empty() ? nullptr : targets.data() + size_t(at) * spec.output_dim);
  }
  return SummarizeInspection(spec, params, t, probe.sums(), !labels.empty());
}

// 21 points -1, -0.9, ..., 1.
std::vector<float> Grid() {
  std::vector<float> x;
  for (int i = -10; i <= 10; ++i) x.push_back(0.1f * i);
  return x;
}

TEST(InspectIntervalTest, SigmoidCentreAndLengthFollowTheWeights) {
  ModelSpec spec = Spec(1, {3}, 1, ActKind::kSigmoid);
  spec.sigmoid_k = 2.0f;
  std::vector<float> p(ParamLayout(spec).size(), 0.0f);
  SetLayer(spec, 0, {2.0f, -0.5f, 4.0f}, {1.0f, 2.0f, -8.0f}, &p);
  const double w[] = {2.0, -0.5, 4.0}, b[] = {1.0, 2.0, -8.0};
  for (int u = 0; u < 3; ++u) {
    const InputInterval iv = FirstLayerInterval(spec, p, {}, u);
    ASSERT_TRUE(iv.applicable);
    EXPECT_DOUBLE_EQ(iv.centre, -b[u] / w[u]) << u;
    EXPECT_DOUBLE_EQ(iv.length(), 8.0 / (2.0 * std::fabs(w[u]))) << u;
    EXPECT_DOUBLE_EQ(iv.lo + iv.hi, 2 * iv.centre) << u;  // symmetric about the centre
  }
}

TEST(InspectIntervalTest, UndoesTheInputNormalisation) {
  // The network sees x' = (x - 3) * 0.5; in raw x, z = w (x - 3) / 2 + b.
  ModelSpec spec = Spec(1, {1}, 1, ActKind::kSigmoid);
  std::vector<float> p(ParamLayout(spec).size(), 0.0f);
  SetLayer(spec, 0, {2.0f}, {1.0f}, &p);
  const InputTransform t{{3.0f}, {0.5f}};
  const InputInterval iv = FirstLayerInterval(spec, p, t, 0);
  EXPECT_DOUBLE_EQ(iv.centre, 3.0 - 1.0 / (2.0 * 0.5));  // z = 0 at x = 2
  EXPECT_DOUBLE_EQ(iv.length(), 8.0 / (2.0 * 0.5));
}

TEST(InspectIntervalTest, TanhAndReluFamilyRegions) {
  ModelSpec spec = Spec(1, {2}, 1, ActKind::kTanh);
  std::vector<float> p(ParamLayout(spec).size(), 0.0f);
  SetLayer(spec, 0, {4.0f, -2.0f}, {2.0f, 1.0f}, &p);
  InputInterval iv = FirstLayerInterval(spec, p, {}, 0);
  EXPECT_DOUBLE_EQ(iv.centre, -0.5);
  EXPECT_DOUBLE_EQ(iv.length(), 4.0 / 4.0);  // |z| < 2: half-width 2/|w|

  for (ActKind a : {ActKind::kRelu, ActKind::kLeakyRelu, ActKind::kElu}) {
    spec.activation = a;
    iv = FirstLayerInterval(spec, p, {}, 0);  // w > 0: z > 0 right of the centre
    EXPECT_DOUBLE_EQ(iv.lo, -0.5);
    EXPECT_TRUE(std::isinf(iv.hi) && iv.hi > 0);
    iv = FirstLayerInterval(spec, p, {}, 1);  // w < 0: left of it
    EXPECT_DOUBLE_EQ(iv.hi, 0.5);
    EXPECT_TRUE(std::isinf(iv.lo) && iv.lo < 0);
  }
  spec.activation = ActKind::kMaxout;
  spec.hidden = {1};
  EXPECT_FALSE(
      FirstLayerInterval(spec, std::vector<float>(ParamLayout(spec).size()), {}, 0).applicable);
}

TEST(InspectIntervalTest, OnlyForOneDimensionalInput) {
  const ModelSpec spec = Spec(2, {2}, 1, ActKind::kSigmoid);
  EXPECT_FALSE(FirstLayerInterval(spec, std::vector<float>(ParamLayout(spec).size(), 1.0f), {}, 0)
                   .applicable);
  EXPECT_THROW(FirstLayerInterval(spec, std::vector<float>(ParamLayout(spec).size()), {}, 2),
               Error);
}

TEST(InspectStateTest, ReluWithLargeNegativeBiasIsDead) {
  // Unit 0: z = x > 0 on 10 of the 21 grid points; unit 1: z = x - 100 never > 0.
  const ModelSpec spec = Spec(1, {2}, 1, ActKind::kRelu);
  std::vector<float> p(ParamLayout(spec).size(), 0.0f);
  SetLayer(spec, 0, {1.0f, 1.0f}, {0.0f, -100.0f}, &p);
  SetLayer(spec, 1, {1.0f, 1.0f}, {0.0f}, &p);
  const std::vector<float> x = Grid(), y(x.size(), 0.0f);
  const InspectionReport rep = Inspect(spec, p, x, {}, y, 8);
  ASSERT_EQ(rep.neurons.size(), 2u);
  EXPECT_EQ(rep.neurons[0].state, NeuronState::kEffective);
  EXPECT_DOUBLE_EQ(rep.neurons[0].in_region, 10.0 / 21.0);
  EXPECT_EQ(rep.neurons[1].state, NeuronState::kDead);
  EXPECT_EQ(rep.neurons[1].in_region, 0.0);
  EXPECT_EQ(rep.layers[0].effective, 1);
  EXPECT_DOUBLE_EQ(rep.layers[0].effective_fraction, 0.5);
  EXPECT_EQ(rep.count, 21.0);
}

TEST(InspectStateTest, SigmoidWithHugeWeightsIsSaturated) {
  // Unit 1: z = 1e4 x + 500 has its region |z| < 4 within 4e-4 of x = -0.05, between the grid
  // points, so every sample saturates it. Unit 0 (w = 1) is in its region everywhere on [-1, 1].
  // In the second hidden layer, unit 1 (bias -50) is saturated too.
  const ModelSpec spec = Spec(1, {2, 2}, 1, ActKind::kSigmoid);
  std::vector<float> p(ParamLayout(spec).size(), 0.0f);
  SetLayer(spec, 0, {1.0f, 1e4f}, {0.0f, 500.0f}, &p);
  SetLayer(spec, 1, {1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, -50.0f}, &p);
  const std::vector<float> x = Grid(), y(x.size(), 0.0f);
  const InspectionReport rep = Inspect(spec, p, x, {}, y, 5);
  ASSERT_EQ(rep.neurons.size(), 4u);
  EXPECT_EQ(rep.neurons[0].state, NeuronState::kEffective);
  EXPECT_DOUBLE_EQ(rep.neurons[0].in_region, 1.0);
  EXPECT_EQ(rep.neurons[1].state, NeuronState::kSaturated);
  EXPECT_NEAR(rep.neurons[1].interval.centre, -0.05, 1e-6);
  EXPECT_NEAR(rep.neurons[1].interval.length(), 8e-4, 1e-9);
  EXPECT_EQ(rep.neurons[2].state, NeuronState::kEffective);
  EXPECT_EQ(rep.neurons[3].state, NeuronState::kSaturated);
  EXPECT_EQ(rep.neurons[3].layer, 1);
  EXPECT_DOUBLE_EQ(rep.layers[1].effective_fraction, 0.5);
}

TEST(InspectAblationTest, NeuronWithZeroOutgoingWeightsHasNoEffect) {
  ModelSpec spec = Spec(3, {6, 4}, 2, ActKind::kTanh);
  Network<float> init(spec, 1);
  InitializeParams(spec, 11, init.params().data());
  std::vector<float> p = init.params();
  ZeroOutgoingWeights(spec, 0, 2, &p);  // layer 1, unit 2: its column of layer2.weight
  ZeroOutgoingWeights(spec, 1, 3, &p);  // layer 2, unit 3: its column of the output weights
  std::vector<float> x(40 * 3), y(40 * 2);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(NormalFromHash(HashKey(5, RngPurpose::kSynthetic, i)));
  for (size_t i = 0; i < y.size(); ++i)
    y[i] = float(NormalFromHash(HashKey(6, RngPurpose::kSynthetic, i)));
  const InspectionReport rep = Inspect(spec, p, x, {}, y, 16);
  for (const NeuronReport& n : rep.neurons) {
    const bool silent = (n.layer == 0 && n.unit == 2) || (n.layer == 1 && n.unit == 3);
    if (silent) {
      EXPECT_EQ(n.delta_loss, 0.0) << n.layer << ":" << n.unit;
      EXPECT_EQ(n.delta_mse, 0.0) << n.layer << ":" << n.unit;
    } else {
      EXPECT_NE(n.delta_loss, 0.0) << n.layer << ":" << n.unit;
    }
  }
  const std::vector<int> order = ByImportance(rep);
  ASSERT_EQ(order.size(), rep.neurons.size());
  for (size_t i = 1; i < order.size(); ++i)
    EXPECT_GE(rep.neurons[order[i - 1]].delta_loss, rep.neurons[order[i]].delta_loss);
}

TEST(InspectAblationTest, MatchesZeroingTheWeightsOfTheWholeNetwork) {
  // Independent reference: the full network with the neuron's outgoing weights zeroed.
  for (ActKind act : {ActKind::kSigmoid, ActKind::kRelu, ActKind::kMaxout}) {
    ModelSpec spec = Spec(4, {5, 3}, 3, act);
    spec.output = OutputKind::kSoftmax;
    spec.loss = LossKind::kCrossEntropy;
    spec.init = InitKind::kNormalScaled;
    Network<float> net(spec, 30);
    InitializeParams(spec, 3, net.params().data());
    const std::vector<float> p = net.params();
    std::vector<float> x(30 * 4);
    std::vector<int32_t> labels(30);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = float(2 * NormalFromHash(HashKey(8, RngPurpose::kSynthetic, i)));
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int32_t(i % 3);
    const InspectionReport rep = Inspect(spec, p, x, labels, {}, 7);
    net.Forward(x.data(), 30);
    const BatchStats base = net.Loss(30, labels.data(), nullptr, false);
    EXPECT_NEAR(rep.loss, base.loss_sum / 30, 1e-6);
    EXPECT_DOUBLE_EQ(rep.accuracy, base.correct / 30);
    for (const NeuronReport& n : rep.neurons) {
      net.params() = p;
      ZeroOutgoingWeights(spec, n.layer, n.unit, &net.params());
      net.Forward(x.data(), 30);
      const BatchStats st = net.Loss(30, labels.data(), nullptr, false);
      EXPECT_NEAR(n.loss, st.loss_sum / 30, 1e-5) << Name(act) << " " << n.layer << ":" << n.unit;
      EXPECT_DOUBLE_EQ(n.accuracy, st.correct / 30) << Name(act) << " " << n.layer << ":" << n.unit;
      EXPECT_NEAR(n.delta_loss, (st.loss_sum - base.loss_sum) / 30, 1e-5);
      if (act == ActKind::kMaxout) {
        EXPECT_EQ(n.state, NeuronState::kNoRegion);
      }
    }
  }
}

TEST(InspectAblationTest, AccuracyAndMseChangesComputedByHand) {
  // Classifier: h0 = relu(x), h1 = relu(-x); logits (h0, h1 + 0.1). x = 1 is class 0, x = -1
  // class 1, both right. Without h0, x = 1 scores (0, 0.1) and turns wrong: accuracy -1/2.
  // Without h1, x = -1 scores (0, 0.1) and stays right.
  ModelSpec cls = Spec(1, {2}, 2, ActKind::kRelu);
  cls.output = OutputKind::kSoftmax;
  cls.loss = LossKind::kCrossEntropy;
  std::vector<float> p(ParamLayout(cls).size(), 0.0f);
  SetLayer(cls, 0, {1.0f, -1.0f}, {0.0f, 0.0f}, &p);
  SetLayer(cls, 1, {1.0f, 0.0f, 0.0f, 1.0f}, {0.0f, 0.1f}, &p);
  InspectionReport rep = Inspect(cls, p, {1.0f, -1.0f}, {0, 1}, {}, 2);
  EXPECT_DOUBLE_EQ(rep.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(rep.neurons[0].delta_accuracy, -0.5);
  EXPECT_DOUBLE_EQ(rep.neurons[1].delta_accuracy, 0.0);
  EXPECT_GT(rep.neurons[0].delta_loss, rep.neurons[1].delta_loss);
  EXPECT_EQ(ByImportance(rep).front(), 0);

  // Regression y = 2 relu(x) fits the target 2 at x = 1 exactly; without the unit it predicts 0:
  // squared error 4 on the one sample.
  const ModelSpec reg = Spec(1, {1}, 1, ActKind::kRelu);
  std::vector<float> q(ParamLayout(reg).size(), 0.0f);
  SetLayer(reg, 0, {1.0f}, {0.0f}, &q);
  SetLayer(reg, 1, {2.0f}, {0.0f}, &q);
  rep = Inspect(reg, q, {1.0f}, {}, {2.0f}, 1);
  EXPECT_DOUBLE_EQ(rep.mse, 0.0);
  EXPECT_DOUBLE_EQ(rep.neurons[0].delta_mse, 4.0);
  EXPECT_DOUBLE_EQ(rep.neurons[0].delta_loss, 4.0);
}

TEST(InspectAblationTest, ChunkingDoesNotChangeTheCounts) {
  const ModelSpec spec = Spec(1, {8}, 1, ActKind::kTanh);
  Network<float> init(spec, 1);
  InitializeParams(spec, 2, init.params().data());
  const std::vector<float> x = Grid(), y(x.size(), 0.5f);
  const InspectionReport a = Inspect(spec, init.params(), x, {}, y, 1);
  const InspectionReport b = Inspect(spec, init.params(), x, {}, y, 64);
  for (size_t i = 0; i < a.neurons.size(); ++i) {
    EXPECT_EQ(a.neurons[i].in_region, b.neurons[i].in_region);
    // OpenBLAS may take another kernel for one row than for 64 (Prescott's does), so the float
    // outputs may differ in their last bits: a few float ulps of the loss, never a count.
    const double ulps = 8 * std::numeric_limits<float>::epsilon();
    EXPECT_NEAR(a.neurons[i].delta_loss, b.neurons[i].delta_loss,
                ulps * (1 + std::fabs(a.neurons[i].delta_loss)));
  }
}

}  // namespace
}  // namespace dpmlp
