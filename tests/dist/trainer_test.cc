// The single-process side of the data-parallel trainer: the epoch permutation, the replica
// fingerprint, the identity "sum over shards = whole batch" that makes results independent of
// the rank count, and short Trainer runs on a world of one.
#include "dist/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/rng.h"
#include "dist/shard.h"
#include "tests/dist/surface_fixture.h"
#include "tests/temp_dir.h"

namespace dpmlp {
namespace {

bool IsPermutation(const std::vector<size_t>& perm) {
  std::vector<char> seen(perm.size(), 0);
  for (size_t v : perm) {
    if (v >= perm.size() || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

std::vector<size_t> Permutation(uint64_t seed, int64_t epoch, size_t n) {
  std::vector<size_t> perm(n);
  EpochPermutation(seed, epoch, &perm);
  return perm;
}

TEST(EpochPermutationTest, IsAPermutationForEverySize) {
  for (size_t n : {0, 1, 2, 3, 7, 100, 1001, 60000}) {
    for (int64_t epoch : {0, 1, 5}) {
      EXPECT_TRUE(IsPermutation(Permutation(1, epoch, n))) << "n=" << n << " epoch=" << epoch;
    }
  }
}

TEST(EpochPermutationTest, DependsOnlyOnSeedEpochAndSize) {
  const std::vector<size_t> a = Permutation(7, 3, 1001);
  // The vector's previous contents must not matter (it is refilled, not shuffled further).
  std::vector<size_t> b(1001, 12345);
  EpochPermutation(7, 3, &b);
  EXPECT_EQ(a, b);
  EpochPermutation(7, 3, &b);  // applying it twice to the same vector gives the same order again
  EXPECT_EQ(a, b);
}

TEST(EpochPermutationTest, DiffersAcrossEpochsAndSeedsAndShuffles) {
  const size_t n = 1001;
  const std::vector<size_t> base = Permutation(1, 0, n);
  std::vector<size_t> identity(n);
  std::iota(identity.begin(), identity.end(), size_t{0});
  // With 1001! orders, two independent shuffles (or a shuffle and the identity) coinciding would
  // mean the seed or epoch is ignored.
  EXPECT_NE(base, identity);
  EXPECT_NE(base, Permutation(1, 1, n));
  EXPECT_NE(base, Permutation(2, 0, n));
  EXPECT_NE(Permutation(1, 1, n), Permutation(2, 1, n));
  // A real shuffle moves almost every element: a fixed-point count near 1 (its mean) is expected;
  // more than 20 would happen with probability < 1e-18 for a uniform permutation.
  size_t fixed = 0;
  for (size_t i = 0; i < n; ++i) fixed += base[i] == i;
  EXPECT_LT(fixed, 20u);
}

TEST(FingerprintTest, EqualBuffersAgreeAndValueIsExactInADouble) {
  std::vector<float> a(1000);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.37f * i);
  const std::vector<float> b = a;
  const double fa = Fingerprint(a.data(), a.size());
  EXPECT_EQ(fa, Fingerprint(b.data(), b.size()));
  // 52 bits: a non-negative integer below 2^52, so an allreduce/allgather of it is exact.
  EXPECT_GE(fa, 0.0);
  EXPECT_LT(fa, std::ldexp(1.0, 52));
  EXPECT_EQ(fa, std::floor(fa));
}

TEST(FingerprintTest, EverySingleBitFlipChangesIt) {
  std::vector<float> a(16);
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0.25f * i - 1.5f;
  const double base = Fingerprint(a.data(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    for (int bit = 0; bit < 32; ++bit) {
      std::vector<float> b = a;
      uint32_t u;
      std::memcpy(&u, &b[i], sizeof u);
      u ^= uint32_t{1} << bit;
      std::memcpy(&b[i], &u, sizeof u);
      EXPECT_NE(Fingerprint(b.data(), b.size()), base) << "element " << i << " bit " << bit;
    }
  }
}

TEST(FingerprintTest, SeesOrderSignOfZeroAndLength) {
  std::vector<float> a = {1.0f, 2.0f, 0.0f};
  const double base = Fingerprint(a.data(), a.size());
  std::vector<float> swapped = {2.0f, 1.0f, 0.0f};
  EXPECT_NE(Fingerprint(swapped.data(), swapped.size()), base);
  std::vector<float> negzero = {1.0f, 2.0f, -0.0f};  // equal as floats, different bits
  EXPECT_NE(Fingerprint(negzero.data(), negzero.size()), base);
  EXPECT_NE(Fingerprint(a.data(), 2), base);
}

// The identity behind rank-count invariance: the gradient SUM of a batch equals the sum of the
// gradient sums of its ShardRange pieces, for every world size (including empty shards). Checked
// in double so the only difference is summation order (relative 1e-12 is far above double
// rounding over 100 rows, far below any real mismatch).
TEST(ShardedGradientTest, SumOverShardsEqualsWholeBatchGradient) {
  ModelSpec spec;
  spec.input_dim = 5;
  spec.hidden = {7, 6};
  spec.output_dim = 3;
  spec.activation = ActKind::kTanh;
  spec.init = InitKind::kXavier;
  const int b = 100;
  std::vector<double> x(b * spec.input_dim);
  std::vector<int32_t> labels(b);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = NormalFromHash(HashKey(3, RngPurpose::kSynthetic, i));
  for (int i = 0; i < b; ++i) labels[i] = i % 3;

  Network<double> whole(spec, b);
  InitializeParams(spec, 11, whole.params().data());
  whole.Forward(x.data(), b);
  const double loss = whole.Loss(b, labels.data(), nullptr, true).loss_sum;
  const size_t n = whole.layout().size();
  std::vector<double> whole_grads(n), part_grads(n);
  whole.Backward(x.data(), b, whole_grads.data());

  for (int p : {1, 2, 3, 4, 7, 101, 150}) {
    Network<double> part(spec, b);
    part.params() = whole.params();
    std::vector<double> sum(n, 0.0);
    double loss_sum = 0.0, count = 0.0;
    for (int r = 0; r < p; ++r) {
      const ShardRange s = ShardRange::Of(b, r, p);
      const int rows = static_cast<int>(s.size());
      part.Forward(x.data() + s.begin * spec.input_dim, rows);
      const BatchStats st = part.Loss(rows, labels.data() + s.begin, nullptr, true);
      part.Backward(x.data() + s.begin * spec.input_dim, rows, part_grads.data());
      for (size_t i = 0; i < n; ++i) sum[i] += part_grads[i];
      loss_sum += st.loss_sum;
      count += st.count;
    }
    EXPECT_EQ(count, b) << "p=" << p;
    EXPECT_NEAR(loss_sum, loss, 1e-12 * std::abs(loss)) << "p=" << p;
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; ++i) {
      diff += (sum[i] - whole_grads[i]) * (sum[i] - whole_grads[i]);
      norm += whole_grads[i] * whole_grads[i];
    }
    EXPECT_GT(norm, 0.0);
    EXPECT_LE(std::sqrt(diff / norm), 1e-12) << "p=" << p;
  }
}

using testing_util::SurfaceData;
using testing_util::SurfaceSpec;

TrainConfig QuietConfig() {
  TrainConfig cfg;
  cfg.dataset = "surface";
  cfg.progress = "off";
  cfg.batch_size = 32;
  cfg.lr = 0.05;
  cfg.sgd.momentum = 0.9;
  cfg.seed = 1;
  return cfg;
}

double TargetVariance(const Dataset& d) {
  double mean = 0, sq = 0;
  for (float t : d.targets) mean += t;
  mean /= d.targets.size();
  for (float t : d.targets) sq += (t - mean) * (t - mean);
  return sq / d.targets.size();
}

TEST(TrainerTest, SurfaceLearnsWellBelowTheMeanPredictor) {
  LocalCommunicator comm;
  const TrainData data = SurfaceData();
  TrainConfig cfg = QuietConfig();
  cfg.epochs = 5;
  const TrainSummary s = Trainer(comm, SurfaceSpec(), data, cfg).Run();
  // 4000 samples at global batch 32: ceil(4000/32) = 125 steps per epoch, every sample once.
  EXPECT_EQ(s.steps, 5 * 125);
  EXPECT_EQ(s.samples_seen, 5 * 4000);
  EXPECT_EQ(s.test.count, 1600);  // the 40 x 40 test grid
  // Predicting the mean scores MSE = Var(z) (about 0.5 for a sine over several periods). A smooth
  // 2-input function fitted by 20 tanh units should explain at least 90% of it in 5 epochs.
  const double var = TargetVariance(data.test);
  EXPECT_GT(var, 0.3);
  EXPECT_LT(s.test.mse, 0.1 * var) << "variance " << var;
}

TEST(TrainerTest, SameSeedGivesBitwiseIdenticalParameters) {
  LocalCommunicator comm;
  const TrainData data = SurfaceData();
  TrainConfig cfg = QuietConfig();
  cfg.max_steps = 40;
  const TrainSummary a = Trainer(comm, SurfaceSpec(), data, cfg).Run();
  const TrainSummary b = Trainer(comm, SurfaceSpec(), data, cfg).Run();
  ASSERT_EQ(a.params.size(), b.params.size());
  EXPECT_EQ(0, std::memcmp(a.params.data(), b.params.data(), a.params.size() * sizeof(float)));
  cfg.seed = 2;
  const TrainSummary c = Trainer(comm, SurfaceSpec(), data, cfg).Run();
  EXPECT_NE(a.params, c.params);
}

TEST(TrainerTest, MaxStepsStopsMidEpochAfterFullBatches) {
  LocalCommunicator comm;
  const TrainData data = SurfaceData();
  TrainConfig cfg = QuietConfig();
  cfg.batch_size = 100;
  cfg.max_steps = 50;  // 40 steps per epoch of 4000: stops 10 steps into epoch 2
  const TrainSummary s = Trainer(comm, SurfaceSpec(), data, cfg).Run();
  EXPECT_EQ(s.steps, 50);
  EXPECT_EQ(s.samples_seen, 50 * 100);
}

TEST(TrainerTest, ShortLastBatchCountsEverySampleOnce) {
  LocalCommunicator comm;
  const TrainData data = SurfaceData(1001);
  TrainConfig cfg = QuietConfig();
  cfg.batch_size = 100;
  cfg.epochs = 2;
  const TrainSummary s = Trainer(comm, SurfaceSpec(), data, cfg).Run();
  // ten batches of 100 and one of 1 per epoch: no padding, no dropping.
  EXPECT_EQ(s.steps, 2 * 11);
  EXPECT_EQ(s.samples_seen, 2 * 1001);
}

TEST(TrainerTest, BatchLargerThanTheDataIsOneStepPerEpoch) {
  LocalCommunicator comm;
  const TrainData data = SurfaceData(50);
  TrainConfig cfg = QuietConfig();
  cfg.batch_size = 128;
  cfg.epochs = 3;
  const TrainSummary s = Trainer(comm, SurfaceSpec(), data, cfg).Run();
  EXPECT_EQ(s.steps, 3);
  EXPECT_EQ(s.samples_seen, 150);
}

// --init-from hands the trainer its starting parameters: with no epochs they come back unchanged,
// and starting from the very parameters the seed would draw is the run from scratch, bit for bit
// (velocity zero, step 0, the same epoch orders).
TEST(TrainerTest, InitialParamsAreWhereTrainingStarts) {
  LocalCommunicator comm;
  TrainData data = SurfaceData();
  TrainConfig cfg = QuietConfig();
  const ModelSpec spec = SurfaceSpec();
  std::vector<float> drawn(static_cast<size_t>(spec.parameter_count()));
  InitializeParams(spec, 7, drawn.data());  // another seed's draw: not what the run would pick
  data.initial_params = drawn;
  cfg.epochs = 0;
  EXPECT_EQ(Trainer(comm, spec, data, cfg).Run().params, drawn);

  cfg.epochs = 2;
  cfg.max_steps = 40;
  InitializeParams(spec, cfg.seed, data.initial_params.data());
  const TrainSummary given = Trainer(comm, spec, data, cfg).Run();
  data.initial_params.clear();
  const TrainSummary scratch = Trainer(comm, spec, data, cfg).Run();
  ASSERT_EQ(given.params.size(), scratch.params.size());
  EXPECT_EQ(0, std::memcmp(given.params.data(), scratch.params.data(),
                           given.params.size() * sizeof(float)));
}

// A resumed run takes everything from its checkpoint: the parameters (not its own initial ones)
// and the input normalisation (not the one it was handed), so it ends bitwise where the
// uninterrupted run ends.
TEST(TrainerTest, ResumedCheckpointWinsOverInitialParamsAndTransform) {
  testing_util::TempDir dir;
  LocalCommunicator comm;
  const ModelSpec spec = SurfaceSpec();
  TrainData data = SurfaceData();
  data.initial_params.resize(static_cast<size_t>(spec.parameter_count()));
  InitializeParams(spec, 11, data.initial_params.data());
  TrainConfig cfg = QuietConfig();
  cfg.epochs = 2;
  cfg.max_steps = 40;
  const TrainSummary whole = Trainer(comm, spec, data, cfg).Run();

  cfg.checkpoint_dir = dir.File("ck");
  cfg.max_steps = 20;
  Trainer(comm, spec, data, cfg).Run();
  TrainData other = SurfaceData();
  other.initial_params.resize(data.initial_params.size());
  InitializeParams(spec, 12, other.initial_params.data());
  for (float& s : other.transform.scale) s *= 2;
  cfg.max_steps = 40;
  cfg.init_from = "other.pb";
  const TrainSummary resumed = Trainer(comm, spec, other, cfg).Run();
  EXPECT_EQ(resumed.resumed_from_step, 20);
  ASSERT_EQ(resumed.params.size(), whole.params.size());
  EXPECT_EQ(0, std::memcmp(resumed.params.data(), whole.params.data(),
                           whole.params.size() * sizeof(float)));
}

}  // namespace
}  // namespace dpmlp
