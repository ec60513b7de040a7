// One hand-computed update of every optimizer option (momentum, Nesterov, L2, L1, clipping,
// max-norm) and the learning-rate schedules at chosen steps. The expected values are derived
// in the comments, not copied from a run.
#include "core/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"

namespace dpmlp {
namespace {

constexpr double kTol = 1e-6;  // float arithmetic on values of order 1

// One dense layer 2 -> 2, no hidden layer: W (row-major, 2 x 2) at [0, 4), b at [4, 6).
ModelSpec TinySpec() {
  ModelSpec spec;
  spec.input_dim = 2;
  spec.output_dim = 2;
  return spec;
}

// W = [[0.5, -1], [0, 2]], b = [0.25, -0.5]: a zero weight, so sign(0) = 0 is exercised.
std::vector<float> Params() { return {0.5f, -1.0f, 0.0f, 2.0f, 0.25f, -0.5f}; }

// Gradient SUMS over count = 2 samples; the mean gradient is g = {0.2, -0.1, 0, 0.5, 0.1, -0.3}.
const std::vector<float> kGradSum = {0.4f, -0.2f, 0.0f, 1.0f, 0.2f, -0.6f};
constexpr double kCount = 2.0;

void ExpectParams(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], kTol) << "parameter " << i;
}

MomentumSgd Make(const SgdOptions& o) { return MomentumSgd(ParamLayout(TinySpec()), o); }

TEST(MomentumSgd, PlainMomentumTwoSteps) {
  SgdOptions o;
  o.momentum = 0.9;
  MomentumSgd sgd = Make(o);
  std::vector<float> w = Params();
  // Step 1, eta = 0.1, v = 0: v = -0.1 g = {-0.02, 0.01, 0, -0.05, -0.01, 0.03}; w += v.
  sgd.Step(w.data(), kGradSum.data(), kCount, 0.1);
  ExpectParams(w, {0.48, -0.99, 0.0, 1.95, 0.24, -0.47});
  ExpectParams(sgd.velocity(), {-0.02, 0.01, 0.0, -0.05, -0.01, 0.03});
  // Step 2, same gradient: v = 0.9 v - 0.1 g = {-0.038, 0.019, 0, -0.095, -0.019, 0.057}.
  sgd.Step(w.data(), kGradSum.data(), kCount, 0.1);
  ExpectParams(sgd.velocity(), {-0.038, 0.019, 0.0, -0.095, -0.019, 0.057});
  ExpectParams(w, {0.442, -0.971, 0.0, 1.855, 0.221, -0.413});
}

TEST(MomentumSgd, NesterovTwoSteps) {
  SgdOptions o;
  o.momentum = 0.9;
  o.nesterov = true;
  MomentumSgd sgd = Make(o);
  std::vector<float> w = Params();
  // Step 1: v = -0.1 g as above; w += 0.9 v - 0.1 g = 1.9 v
  //   = {-0.038, 0.019, 0, -0.095, -0.019, 0.057}.
  sgd.Step(w.data(), kGradSum.data(), kCount, 0.1);
  ExpectParams(w, {0.462, -0.981, 0.0, 1.905, 0.231, -0.443});
  // Step 2: v = {-0.038, 0.019, 0, -0.095, -0.019, 0.057} (the velocity is the classical one);
  // w += 0.9 v - 0.1 g = {-0.0542, 0.0271, 0, -0.1355, -0.0271, 0.0813}.
  sgd.Step(w.data(), kGradSum.data(), kCount, 0.1);
  ExpectParams(sgd.velocity(), {-0.038, 0.019, 0.0, -0.095, -0.019, 0.057});
  ExpectParams(w, {0.4078, -0.9539, 0.0, 1.7695, 0.2039, -0.3617});
}

TEST(MomentumSgd, WeightDecaySkipsBiasesByDefault) {
  SgdOptions o;
  o.momentum = 0.5;
  o.weight_decay = 0.1;
  MomentumSgd sgd = Make(o);
  std::vector<float> w = Params();
  // eta = 0.1: weights get g + 0.1 w = {0.2 + 0.05, -0.1 - 0.1, 0 + 0, 0.5 + 0.2} =
  // {0.25, -0.2, 0, 0.7}, so v = {-0.025, 0.02, 0, -0.07}; biases get g alone: v = {-0.01, 0.03}.
  sgd.Step(w.data(), kGradSum.data(), kCount, 0.1);
  ExpectParams(sgd.velocity(), {-0.025, 0.02, 0.0, -0.07, -0.01, 0.03});
  ExpectParams(w, {0.475, -0.98, 0.0, 1.93, 0.24, -0.47});
  // Step 2 with a zero gradient: only decay and momentum act on the weights,
  // v = 0.5 v - 0.1 (0.1 w) = {-0.0125 - 0.00475, 0.01 + 0.0098, 0, -0.035 - 0.0193};
  // biases: v = 0.5 v = {-0.005, 0.015}.
  const std::vector<float> zero(6, 0.0f);
  sgd.Step(w.data(), zero.data(), kCount, 0.1);
  ExpectParams(sgd.velocity(), {-0.01725, 0.0198, 0.0, -0.0543, -0.005, 0.015});
  ExpectParams(w, {0.45775, -0.9602, 0.0, 1.8757, 0.235, -0.455});
}

TEST(MomentumSgd, WeightDecayOnBiasesWhenAsked) {
  SgdOptions o;
  o.weight_decay = 0.1;
  o.decay_biases = true;
  MomentumSgd sgd = Make(o);
  std::vector<float> w = Params();
  const std::vector<float> zero(6, 0.0f);
  // Zero gradient, mu = 0, eta = 0.1: every entry shrinks by the factor 1 - 0.1 * 0.1 = 0.99.
  sgd.Step(w.data(), zero.data(), kCount, 0.1);
  ExpectParams(w, {0.495, -0.99, 0.0, 1.98, 0.2475, -0.495});
}

TEST(MomentumSgd, L1IsTheSignSubgradientAndZeroAtZero) {
  SgdOptions o;
  o.l1 = 0.05;
  MomentumSgd sgd = Make(o);
  std::vector<float> w = Params();
  // mu = 0, eta = 0.1: weights get g + 0.05 sign(w) = {0.25, -0.15, 0 (sign 0 = 0), 0.55};
  // biases are not penalised: g = {0.1, -0.3}. w -= 0.1 * that.
  sgd.Step(w.data(), kGradSum.data(), kCount, 0.1);
  ExpectParams(w, {0.475, -0.985, 0.0, 1.945, 0.24, -0.47});

  o.decay_biases = true;
  MomentumSgd with_biases = Make(o);
  std::vector<float> wb = Params();
  const std::vector<float> zero(6, 0.0f);
  // Zero gradient: every nonzero entry moves 0.1 * 0.05 = 0.005 toward 0; the zero stays put.
  with_biases.Step(wb.data(), zero.data(), kCount, 0.1);
  ExpectParams(wb, {0.495, -0.995, 0.0, 1.995, 0.245, -0.495});
}

TEST(MomentumSgd, ClipsTheMeanGradientToTheGlobalNorm) {
  // Sums over 2 samples; the mean gradient {0.6, 0, 0, -0.8, 0, 0} has norm exactly 1.
  const std::vector<float> grad_sum = {1.2f, 0.0f, 0.0f, -1.6f, 0.0f, 0.0f};
  SgdOptions o;
  o.clip_norm = 0.5;
  MomentumSgd sgd = Make(o);
  std::vector<float> w = Params();
  // Clipped to norm 0.5: {0.3, 0, 0, -0.4, 0, 0}; eta = 1, mu = 0: w -= that.
  const double norm = sgd.Step(w.data(), grad_sum.data(), kCount, 1.0);
  EXPECT_NEAR(norm, 1.0, kTol);  // the norm before clipping is reported
  ExpectParams(w, {0.2, -1.0, 0.0, 2.4, 0.25, -0.5});

  // Under the threshold the gradient is untouched: w -= {0.6, 0, 0, -0.8, 0, 0}.
  o.clip_norm = 2.0;
  MomentumSgd loose = Make(o);
  std::vector<float> w2 = Params();
  loose.Step(w2.data(), grad_sum.data(), kCount, 1.0);
  ExpectParams(w2, {-0.1, -1.0, 0.0, 2.8, 0.25, -0.5});
}

TEST(MomentumSgd, MaxNormRescalesEachUnitsIncomingWeights) {
  SgdOptions o;
  o.max_norm = 1.0;
  MomentumSgd sgd = Make(o);
  // Row 0 = {0.3, -0.4} (norm 0.5) is inside the ball; row 1 = {3, 4} (norm 5) is scaled by
  // 1/5 to {0.6, 0.8}; biases are not constrained.
  std::vector<float> w = {0.3f, -0.4f, 3.0f, 4.0f, 5.0f, -7.0f};
  const std::vector<float> zero(6, 0.0f);
  sgd.Step(w.data(), zero.data(), 1.0, 0.1);
  ExpectParams(w, {0.3, -0.4, 0.6, 0.8, 5.0, -7.0});
}

TEST(MomentumSgd, EmptyBatchChangesNothing) {
  SgdOptions o;
  o.momentum = 0.9;
  o.weight_decay = 0.1;
  MomentumSgd sgd = Make(o);
  std::vector<float> w = Params();
  sgd.Step(w.data(), kGradSum.data(), 0.0, 0.1);
  ExpectParams(w, {0.5, -1.0, 0.0, 2.0, 0.25, -0.5});
  ExpectParams(sgd.velocity(), {0, 0, 0, 0, 0, 0});
}

// 10 steps per epoch, 10 epochs: 100 steps; base lr 0.1.
LrSchedule Schedule(LrSchedule::Kind kind) {
  LrSchedule s;
  s.kind = kind;
  s.base_lr = 0.1;
  s.steps_per_epoch = 10;
  s.total_steps = 100;
  return s;
}

TEST(LrSchedule, Constant) {
  const LrSchedule s = Schedule(LrSchedule::Kind::kConstant);
  EXPECT_NEAR(s.At(0), 0.1, 1e-12);
  EXPECT_NEAR(s.At(57), 0.1, 1e-12);
  EXPECT_NEAR(s.At(1000), 0.1, 1e-12);
}

TEST(LrSchedule, StepMultipliesByGammaEveryPeriod) {
  LrSchedule s = Schedule(LrSchedule::Kind::kStep);
  s.gamma = 0.5;
  s.step_epochs = 2;  // a period of 20 steps
  EXPECT_NEAR(s.At(0), 0.1, 1e-12);
  EXPECT_NEAR(s.At(19), 0.1, 1e-12);   // epoch 1: still the first period
  EXPECT_NEAR(s.At(20), 0.05, 1e-12);  // epoch 2: 0.1 * 0.5
  EXPECT_NEAR(s.At(39), 0.05, 1e-12);
  EXPECT_NEAR(s.At(40), 0.025, 1e-12);   // epoch 4: 0.1 * 0.5^2
  EXPECT_NEAR(s.At(65), 0.0125, 1e-12);  // epoch 6: 0.1 * 0.5^3
}

TEST(LrSchedule, CosineFromBaseToMin) {
  LrSchedule s = Schedule(LrSchedule::Kind::kCosine);
  // lr = min + (base - min) (1 + cos(pi t)) / 2 with t = step / 100.
  EXPECT_NEAR(s.At(0), 0.1, 1e-12);
  EXPECT_NEAR(s.At(25), 0.05 * (1 + 0.70710678118654752), 1e-12);  // cos(pi/4)
  EXPECT_NEAR(s.At(50), 0.05, 1e-12);
  EXPECT_NEAR(s.At(100), 0.0, 1e-12);
  EXPECT_NEAR(s.At(150), 0.0, 1e-12);  // held at min past the end
  s.min_lr = 0.01;
  EXPECT_NEAR(s.At(50), 0.01 + 0.09 * 0.5, 1e-12);
  EXPECT_NEAR(s.At(100), 0.01, 1e-12);
}

TEST(LrSchedule, CosineWithWarmup) {
  LrSchedule s = Schedule(LrSchedule::Kind::kCosine);
  s.warmup_epochs = 1.0;  // 10 warmup steps: lr = 0.1 (step + 1) / 10
  EXPECT_NEAR(s.At(0), 0.01, 1e-12);
  EXPECT_NEAR(s.At(4), 0.05, 1e-12);
  EXPECT_NEAR(s.At(9), 0.1, 1e-12);
  // Then the cosine spans the remaining 90 steps: t = (step - 10) / 90.
  EXPECT_NEAR(s.At(10), 0.1, 1e-12);
  EXPECT_NEAR(s.At(55), 0.05, 1e-12);  // t = 1/2
  EXPECT_NEAR(s.At(100), 0.0, 1e-12);
}

TEST(LrSchedule, WarmupOnConstantAndStep) {
  LrSchedule c = Schedule(LrSchedule::Kind::kConstant);
  c.warmup_epochs = 0.5;  // 5 steps
  EXPECT_NEAR(c.At(0), 0.02, 1e-12);
  EXPECT_NEAR(c.At(2), 0.06, 1e-12);
  EXPECT_NEAR(c.At(4), 0.1, 1e-12);
  EXPECT_NEAR(c.At(5), 0.1, 1e-12);

  LrSchedule s = Schedule(LrSchedule::Kind::kStep);
  s.gamma = 0.5;
  s.step_epochs = 1;
  s.warmup_epochs = 1.0;
  // Warmup scales the step schedule's value; the periods still count from step 0.
  EXPECT_NEAR(s.At(5), 0.06, 1e-12);   // 0.1 * 6/10
  EXPECT_NEAR(s.At(10), 0.05, 1e-12);  // epoch 1: 0.1 * 0.5, warmup over
}

TEST(LrSchedule, ParseAndName) {
  EXPECT_EQ(LrSchedule::Parse("cosine"), LrSchedule::Kind::kCosine);
  EXPECT_STREQ(LrSchedule::Name(LrSchedule::Parse("step")), "step");
  try {
    LrSchedule::Parse("linear");
    FAIL() << "expected a usage error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitUsage);
    EXPECT_NE(std::string(e.what()).find("--lr-schedule"), std::string::npos);
  }
}

}  // namespace
}  // namespace dpmlp

namespace dpmlp {
namespace {

// The trainer's divergence check rides in the update loop: every form of the loop must report
// an infinity or a NaN at any position (the first, a middle one, the last), and the largest
// finite float must not count as one.
TEST(MomentumSgd, ReportsNonFiniteGradientsInEveryLoopForm) {
  SgdOptions plain, nesterov, decayed;
  plain.momentum = nesterov.momentum = decayed.momentum = 0.9;
  nesterov.nesterov = true;
  decayed.weight_decay = 1e-4;
  for (const SgdOptions& o : {plain, nesterov, decayed}) {
    for (size_t at = 0; at < kGradSum.size(); at += 2) {
      for (float bad : {INFINITY, -INFINITY, NAN}) {
        MomentumSgd sgd = Make(o);
        std::vector<float> w = Params(), g = kGradSum;
        g[at] = bad;
        bool finite = true;
        sgd.Step(w.data(), g.data(), kCount, 0.1, &finite);
        EXPECT_FALSE(finite) << "entry " << at << " = " << bad << " nesterov " << o.nesterov;
      }
    }
    MomentumSgd sgd = Make(o);
    std::vector<float> w = Params(), g = kGradSum;
    g[3] = std::numeric_limits<float>::max();
    bool finite = false;
    sgd.Step(w.data(), g.data(), kCount, 0.1, &finite);
    EXPECT_TRUE(finite);
  }
}

// Two optimizers that each keep half of the velocity and update their half of the parameters, as
// two ranks of the sharded update do, give the whole optimizer's parameters and velocity bit for
// bit, in every form of the update; a shard's velocity comes from the whole one.
TEST(MomentumSgd, ShardsUpdateTheirSpansExactlyAsTheWholeStep) {
  SgdOptions o;
  o.momentum = 0.9;
  o.nesterov = true;
  o.weight_decay = 0.1;
  o.l1 = 0.01;
  MomentumSgd whole = Make(o), low = Make(o), high = Make(o);
  low.SetShard(0, 3);
  high.SetShard(3, 6);
  EXPECT_EQ(low.velocity().size(), 3u);
  EXPECT_EQ(high.shard_begin(), 3u);
  EXPECT_EQ(high.shard_end(), 6u);
  std::vector<float> w = Params(), split = Params();
  for (int step = 0; step < 3; ++step) {
    whole.Step(w.data(), kGradSum.data(), kCount, 0.1);
    const double scale = low.GradScale(kCount, 0.0);
    EXPECT_TRUE(low.UpdateSpan(split.data(), kGradSum.data(), 0, 3, scale, 0.1));
    // A span given in two pieces, its sums from where the piece starts.
    EXPECT_TRUE(high.UpdateSpan(split.data(), kGradSum.data() + 3, 3, 5, scale, 0.1));
    EXPECT_TRUE(high.UpdateSpan(split.data(), kGradSum.data() + 5, 5, 6, scale, 0.1));
  }
  EXPECT_EQ(w, split);
  std::vector<float> v = low.velocity();
  v.insert(v.end(), high.velocity().begin(), high.velocity().end());
  EXPECT_EQ(v, whole.velocity());
  MomentumSgd resumed = Make(o);
  resumed.SetShard(3, 6);
  resumed.SetVelocityFromWhole(whole.velocity());
  EXPECT_EQ(resumed.velocity(), high.velocity());
  // The clipped scale is the Step's: 1 / count, times clip / norm above the clip.
  o.clip_norm = 0.1;
  const MomentumSgd clip = Make(o);
  EXPECT_DOUBLE_EQ(clip.GradScale(2.0, 0.4), 0.5 * 0.1 / 0.4);
  EXPECT_DOUBLE_EQ(clip.GradScale(2.0, 0.05), 0.5);
  // A non-finite sum in a span says so; a sharded optimizer refuses the whole-model Step.
  std::vector<float> g = kGradSum;
  g[4] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(high.UpdateSpan(split.data(), g.data() + 3, 3, 6, 0.5, 0.1));
  EXPECT_THROW(high.Step(split.data(), kGradSum.data(), kCount, 0.1), Error);
}

}  // namespace
}  // namespace dpmlp

namespace dpmlp {
namespace {

TEST(RunningMeanTest, IsTheMeanOfEveryVectorSoFar) {
  const std::vector<std::vector<float>> xs = {{1, -2, 4}, {3, 0, 4}, {8, 2, 1}, {0, 4, -1}};
  std::vector<float> mean(3, 99.0f);  // count 1 overwrites whatever was there
  for (size_t k = 0; k < xs.size(); ++k) {
    UpdateRunningMean(xs[k].data(), 3, static_cast<int64_t>(k + 1), mean.data());
    for (int j = 0; j < 3; ++j) {
      double want = 0;
      for (size_t i = 0; i <= k; ++i) want += xs[i][j];
      EXPECT_NEAR(mean[j], want / (k + 1), 1e-6) << k << " " << j;
    }
  }
  // Exactly: (1 + 3 + 8 + 0) / 4 = 3 with these small integers.
  EXPECT_EQ(mean[0], 3.0f);
}

}  // namespace
}  // namespace dpmlp
