// Numerical gradient check (central differences, double precision) of every hidden activation
// and every output/loss pair, with and without dropout, plus shape and layout checks.
#include "core/network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace dpmlp {
namespace {

struct Case {
  ActKind act;
  OutputKind out;
  LossKind loss;
  bool regression;
  int output_dim;
};

std::string CaseName(const Case& c) {
  return std::string(Name(c.act)) + "_" + Name(c.out) + "_" + Name(c.loss) +
         (c.regression ? "_reg" : "_cls") + std::to_string(c.output_dim);
}

class GradientCheck : public ::testing::TestWithParam<std::tuple<Case, bool>> {};

// Loss sum of the current parameters on the batch.
double LossSum(Network<double>& net, const std::vector<double>& x, int rows,
               const std::vector<int32_t>& labels, const std::vector<double>& targets,
               const DropoutSpec* drop) {
  net.Forward(x.data(), rows, drop);
  return net
      .Loss(rows, labels.empty() ? nullptr : labels.data(),
            targets.empty() ? nullptr : targets.data(), false)
      .loss_sum;
}

TEST_P(GradientCheck, AnalyticMatchesCentralDifferences) {
  const auto [c, with_dropout] = GetParam();
  ModelSpec spec;
  spec.input_dim = 4;
  spec.hidden = {5, 3};
  spec.output_dim = c.output_dim;
  spec.activation = c.act;
  spec.sigmoid_k = 2.5f;  // a steepness other than 1 exercises k in the derivative
  spec.alpha = 0.3f;
  spec.maxout_pieces = 3;
  spec.output = c.out;
  spec.loss = c.loss;
  spec.init = InitKind::kNormalScaled;
  const int rows = 6;
  Network<double> net(spec, rows);
  InitializeParams(spec, 7, net.params().data());

  std::vector<double> x(rows * spec.input_dim);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 2.0 * NormalFromHash(HashKey(3, RngPurpose::kSynthetic, i));
  std::vector<int32_t> labels;
  std::vector<double> targets;
  if (c.regression) {
    for (int i = 0; i < rows * c.output_dim; ++i)
      targets.push_back(c.out == OutputKind::kSigmoid
                            ? UniformFromHash(HashKey(4, RngPurpose::kSynthetic, i))
                            : NormalFromHash(HashKey(4, RngPurpose::kSynthetic, i)));
  } else {
    const int classes = c.output_dim == 1 ? 2 : c.output_dim;
    for (int r = 0; r < rows; ++r) labels.push_back(r % classes);
  }
  std::vector<size_t> ids = {10, 11, 12, 13, 14, 15};
  DropoutSpec drop{0.4, 99, 5, ids.data()};
  const DropoutSpec* dp = with_dropout ? &drop : nullptr;

  net.Forward(x.data(), rows, dp);
  net.Loss(rows, labels.empty() ? nullptr : labels.data(),
           targets.empty() ? nullptr : targets.data(), true);
  std::vector<double> analytic(net.layout().size());
  net.Backward(x.data(), rows, analytic.data());

  const double eps = 1e-6;
  double worst = 0.0;
  for (size_t i = 0; i < net.params().size(); ++i) {
    const double saved = net.params()[i];
    net.params()[i] = saved + eps;
    const double up = LossSum(net, x, rows, labels, targets, dp);
    net.params()[i] = saved - eps;
    const double down = LossSum(net, x, rows, labels, targets, dp);
    net.params()[i] = saved;
    const double numeric = (up - down) / (2 * eps);
    const double err = std::fabs(numeric - analytic[i]) /
                       std::max(1.0, std::fabs(numeric) + std::fabs(analytic[i]));
    worst = std::max(worst, err);
    ASSERT_LT(err, 1e-5) << "parameter " << i << " numeric " << numeric << " analytic "
                         << analytic[i];
  }
  // Dropout must actually change the function, or the check says nothing about it.
  if (with_dropout) {
    EXPECT_NE(LossSum(net, x, rows, labels, targets, dp),
              LossSum(net, x, rows, labels, targets, nullptr));
  }
}

const Case kCases[] = {
    {ActKind::kSigmoid, OutputKind::kSoftmax, LossKind::kCrossEntropy, false, 3},
    {ActKind::kTanh, OutputKind::kSoftmax, LossKind::kCrossEntropy, false, 3},
    {ActKind::kRelu, OutputKind::kSoftmax, LossKind::kCrossEntropy, false, 3},
    {ActKind::kLeakyRelu, OutputKind::kSoftmax, LossKind::kCrossEntropy, false, 3},
    {ActKind::kElu, OutputKind::kSoftmax, LossKind::kCrossEntropy, false, 3},
    {ActKind::kMaxout, OutputKind::kSoftmax, LossKind::kCrossEntropy, false, 3},
    {ActKind::kSigmoid, OutputKind::kSigmoid, LossKind::kBinaryCrossEntropy, false, 1},
    {ActKind::kTanh, OutputKind::kSigmoid, LossKind::kBinaryCrossEntropy, false, 3},
    {ActKind::kElu, OutputKind::kSigmoid, LossKind::kBinaryCrossEntropy, true, 2},
    {ActKind::kSigmoid, OutputKind::kSigmoid, LossKind::kMse, false, 3},
    {ActKind::kMaxout, OutputKind::kSigmoid, LossKind::kMse, true, 2},
    {ActKind::kSigmoid, OutputKind::kIdentity, LossKind::kMse, true, 1},
    {ActKind::kRelu, OutputKind::kIdentity, LossKind::kMse, true, 2},
    {ActKind::kLeakyRelu, OutputKind::kIdentity, LossKind::kMse, true, 2},
};

INSTANTIATE_TEST_SUITE_P(AllPairs, GradientCheck,
                         ::testing::Combine(::testing::ValuesIn(kCases), ::testing::Bool()),
                         [](const auto& info) {
                           return CaseName(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_dropout" : "");
                         });

TEST(ModelSpec, MnistShapedNetHas13002Parameters) {
  ModelSpec spec;
  spec.input_dim = 784;
  spec.hidden = {16, 16};
  spec.output_dim = 10;
  // 784*16+16 + 16*16+16 + 16*10+10: weights and biases of each of the three layers.
  EXPECT_EQ(spec.parameter_count(), (784 * 16 + 16) + (16 * 16 + 16) + (16 * 10 + 10));
  EXPECT_EQ(spec.parameter_count(), 13002);
  EXPECT_EQ(ParamLayout(spec).size(), 13002u);
}

TEST(ModelSpec, MaxoutMultipliesPreActivationRows) {
  ModelSpec spec;
  spec.input_dim = 3;
  spec.hidden = {4};
  spec.output_dim = 2;
  spec.activation = ActKind::kMaxout;
  spec.maxout_pieces = 3;
  EXPECT_EQ(spec.parameter_count(), (3 * 12 + 12) + (4 * 2 + 2));
}

TEST(ModelSpec, RejectsIncompatibleOutputAndLoss) {
  ModelSpec spec;
  spec.input_dim = 3;
  spec.output_dim = 2;
  spec.output = OutputKind::kIdentity;
  spec.loss = LossKind::kCrossEntropy;
  try {
    spec.Validate();
    FAIL() << "expected an error";
  } catch (const SpecError& e) {
    // core names the spec's field, not a command-line option: the model may come from a file.
    EXPECT_EQ(e.code(), kExitUsage);
    EXPECT_EQ(e.field(), "output");
    EXPECT_NE(std::string(e.what()).find("output: identity does not go with loss cross_entropy"),
              std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << e.what();
  }
}

TEST(ModelSpec, ParsesAndRejectsLayers) {
  EXPECT_EQ(ParseLayers("256,128"), (std::vector<int>{256, 128}));
  for (const char* bad : {"", "0", "16,,4", "a", "16,", "-3", "1.5"}) {
    try {
      ParseLayers(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kExitUsage);
      // The text is quoted; the launcher puts the option's name in front.
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad), std::string::npos) << bad;
    }
  }
  EXPECT_THROW(ParseActivation("swish", "activation"), Error);
  EXPECT_EQ(ParseActivation("leaky_relu", "activation"), ActKind::kLeakyRelu);
}

TEST(Init, KeyedBySeedAndScaledAsDocumented) {
  ModelSpec spec;
  spec.input_dim = 400;
  spec.hidden = {300};
  spec.output_dim = 10;
  for (InitKind kind : {InitKind::kNormal, InitKind::kNormalScaled, InitKind::kSmall,
                        InitKind::kXavier, InitKind::kHe}) {
    spec.init = kind;
    ParamLayout layout(spec);
    std::vector<float> p(layout.size()), q(layout.size());
    InitializeParams(spec, 1, p.data());
    InitializeParams(spec, 1, q.data());
    EXPECT_EQ(p, q);
    const LayerSlot& s = layout.layers()[0];
    double sq = 0;
    for (size_t i = s.weight_offset; i < s.bias_offset; ++i) sq += double(p[i]) * p[i];
    const double sd = std::sqrt(sq / (s.bias_offset - s.weight_offset));
    const double expect = kind == InitKind::kNormal         ? 1.0
                          : kind == InitKind::kNormalScaled ? 1.0 / std::sqrt(400.0)
                          : kind == InitKind::kSmall        ? 0.01
                          : kind == InitKind::kXavier       ? std::sqrt(2.0 / 700.0)
                                                            : std::sqrt(2.0 / 400.0);
    EXPECT_NEAR(sd, expect, 0.02 * expect) << Name(kind);
  }
}

TEST(Network, SoftmaxCrossEntropySurvivesHugeLogits) {
  ModelSpec spec;
  spec.input_dim = 1;
  spec.output_dim = 2;
  Network<float> net(spec, 1);
  net.params() = {1000.0f, -1000.0f, 0.0f, 0.0f};  // weights 2x1, biases 2
  const float x = 1.0f;
  net.Forward(&x, 1);
  const int32_t label = 1;  // the class with logit -1000: loss 2000, finite
  BatchStats st = net.Loss(1, &label, nullptr, true);
  EXPECT_NEAR(st.loss_sum, 2000.0, 1e-3);
  EXPECT_EQ(st.correct, 0.0);
}

}  // namespace
}  // namespace dpmlp

namespace dpmlp {
namespace {

// Records each span Backward reports, with a copy of its values at that moment.
class RecordingSink : public GradientSink {
 public:
  explicit RecordingSink(const std::vector<double>* grads) : grads_(grads) {}
  void Ready(size_t begin, size_t end) override {
    spans.emplace_back(begin, end);
    values.emplace_back(grads_->begin() + begin, grads_->begin() + end);
  }
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<std::vector<double>> values;

 private:
  const std::vector<double>* grads_;
};

// The overlapped allreduce relies on three things: the spans tile the gradient buffer from the
// end down with no gap or overlap, a reported span is final (nothing later in backward changes
// it), and chunking the weight gradient into blocks of rows gives the same gradient.
TEST(BackwardSink, SpansTileTheBufferFromTheEndAndAreFinalWhenReported) {
  for (ActKind act : {ActKind::kRelu, ActKind::kMaxout}) {
    ModelSpec spec;
    spec.input_dim = 9;
    spec.hidden = {7, 5};
    spec.output_dim = 3;
    spec.activation = act;
    spec.maxout_pieces = 2;
    const int rows = 4;
    Network<double> net(spec, rows);
    // The caller's buffer: the gradients, then 2 floats of its own (the trainer's tail).
    std::vector<double> grads(net.layout().size() + 2);
    InitializeParams(spec, 3, net.params().data());
    std::vector<double> x(rows * spec.input_dim);
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7 * static_cast<double>(i));
    const std::vector<int32_t> labels = {0, 2, 1, 2};
    net.Forward(x.data(), rows);
    net.Loss(rows, labels.data(), nullptr, true);
    grads[net.layout().size()] = 42.0;  // the tail is the caller's: Backward leaves it
    net.Backward(x.data(), rows, grads.data());
    const std::vector<double> whole = grads;
    EXPECT_EQ(whole[net.layout().size()], 42.0);

    for (size_t chunk : {size_t{0}, size_t{1}, size_t{9}, size_t{20}, size_t{1000}}) {
      SCOPED_TRACE(std::string(Name(act)) + " chunk " + std::to_string(chunk));
      std::fill(grads.begin(), grads.end(), -1.0);
      RecordingSink sink(&grads);
      net.Backward(x.data(), rows, grads.data(), &sink, chunk);
      size_t end = net.layout().size();
      for (const auto& [b, e] : sink.spans) {
        EXPECT_EQ(e, end);
        EXPECT_LT(b, e);
        end = b;
      }
      EXPECT_EQ(end, 0u);
      for (size_t s = 0; s < sink.spans.size(); ++s)
        for (size_t i = sink.spans[s].first; i < sink.spans[s].second; ++i)
          ASSERT_EQ(sink.values[s][i - sink.spans[s].first], grads[i]) << "entry " << i;
      for (size_t i = 0; i < net.layout().size(); ++i)
        EXPECT_NEAR(grads[i], whole[i], 1e-12 * (1 + std::fabs(whole[i]))) << i;
      // Without chunking one span per layer; with it, a layer of more weights than `chunk`
      // comes in blocks of max(1, chunk / in) rows.
      size_t want = 0;
      for (const LayerSlot& l : net.layout().layers()) {
        const size_t weights = static_cast<size_t>(l.pre) * l.in;
        const size_t block =
            chunk > 0 && weights > chunk ? std::max<size_t>(1, chunk / l.in) : l.pre;
        want += (l.pre + block - 1) / block;
      }
      EXPECT_EQ(sink.spans.size(), want);
      // A rank with no rows (an empty shard of a short last batch) must report the very same
      // spans, all zero, or its allreduces would not pair up with the other ranks'.
      RecordingSink empty(&grads);
      net.Backward(x.data(), 0, grads.data(), &empty, chunk);
      EXPECT_EQ(empty.spans, sink.spans);
      for (size_t i = 0; i < net.layout().size(); ++i) ASSERT_EQ(grads[i], 0.0) << i;
      EXPECT_EQ(grads[net.layout().size()], -1.0);  // as this loop left it
    }
  }
}

}  // namespace
}  // namespace dpmlp
