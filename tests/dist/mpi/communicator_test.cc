// The Open MPI Communicator under real ranks (CTest runs this binary at np = 1, 2 and 3):
// every collective over buffer sizes 0, 1, 7 and 10^6, with values whose expected results are
// exact and reveal which ranks contributed; the replica-consistency check; sharded evaluation.
#include "dist/communicator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/batch.h"
#include "core/dataset.h"
#include "core/network.h"
#include "dist/evaluate.h"
#include "dist/trainer.h"
#include "tests/dist/mpi/world.h"

namespace dpmlp {
namespace {

using mpi_test::World;

// Up to 64 KiB a power-of-two world sums by recursive doubling over messages, above it by
// MPI_Iallreduce: sizes on both sides of the switch (16384 floats = 64 KiB; 16385 doubles > it).
const size_t kSizes[] = {0, 1, 7, 4096, 16384, 16385, 1000000};

// Rank r contributes 8*(i mod 4096) + 2^r at element i. Every partial sum is an integer below
// 3*8*4095 + 7 < 2^24, so float addition is exact in any order, and the low three bits of the
// result (2^p - 1) show that each rank contributed exactly once.
double SumTestValue(size_t i, int rank) { return 8.0 * (i % 4096) + (1 << rank); }
double ExpectedSum(size_t i, int world) { return 8.0 * world * (i % 4096) + ((1 << world) - 1); }

TEST(CommunicatorTest, WorldMatchesTheLauncher) {
  Communicator& c = World();
  EXPECT_GE(c.size(), 1);
  EXPECT_GE(c.rank(), 0);
  EXPECT_LT(c.rank(), c.size());
  EXPECT_STREQ(c.backend(), "open-mpi");
  const char* env = std::getenv("OMPI_COMM_WORLD_SIZE");
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(c.size(), std::atoi(env));
}

// The watchdog names lost ranks with the hosts gathered at start; here all ranks share a host.
TEST(CommunicatorTest, RanksOnHostsNamesTheGatheredHosts) {
  Communicator& c = World();
  const std::vector<std::string> hosts = c.Hostnames();
  ASSERT_EQ(hosts.size(), static_cast<size_t>(c.size()));
  std::string want = "rank 0 on " + hosts[0];
  if (c.size() > 1) want += ", rank 1 on " + hosts[1];
  EXPECT_EQ(c.RanksOnHosts(c.size() > 1 ? std::vector<int>{0, 1} : std::vector<int>{0}), want);
}

TEST(CommunicatorTest, AllreduceSumFloat) {
  Communicator& c = World();
  for (size_t n : kSizes) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(SumTestValue(i, c.rank()));
    c.AllreduceSum(v.data(), n);
    size_t wrong = 0, first = n;
    for (size_t i = 0; i < n; ++i)
      if (v[i] != static_cast<float>(ExpectedSum(i, c.size())) && wrong++ == 0) first = i;
    EXPECT_EQ(wrong, 0u) << "n=" << n << ", first wrong element " << first << " = "
                         << (first < n ? v[first] : 0.0f);
  }
}

TEST(CommunicatorTest, AllreduceSumDouble) {
  Communicator& c = World();
  for (size_t n : kSizes) {
    // Adds (r+1) * 2^-30 to the float-exact pattern: the sum needs about 47 significant bits,
    // exact in a double but not in a float, so a reduction done in float would show.
    std::vector<double> v(n);
    const double tiny = std::ldexp(1.0, -30);
    for (size_t i = 0; i < n; ++i) v[i] = SumTestValue(i, c.rank()) + (c.rank() + 1) * tiny;
    c.AllreduceSum(v.data(), n);
    const double tail = c.size() * (c.size() + 1) / 2 * tiny;
    size_t wrong = 0, first = n;
    for (size_t i = 0; i < n; ++i)
      if (v[i] != ExpectedSum(i, c.size()) + tail && wrong++ == 0) first = i;
    EXPECT_EQ(wrong, 0u) << "n=" << n << ", first wrong element " << first;
  }
}

// Values whose sum depends on the order of addition: every rank still ends with the same bits
// (the replicated update needs identical sums on every rank), at every size.
TEST(CommunicatorTest, AllreduceSumGivesEveryRankTheSameBits) {
  Communicator& c = World();
  for (size_t n : kSizes) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = std::ldexp(
          static_cast<float>((i * 2654435761u + c.rank() * 40503u) % 1000003) / 1000003.0f,
          c.rank() - 3);
    c.AllreduceSum(v.data(), n);
    std::vector<float> root = v;
    c.Broadcast(root.data(), n, 0);
    EXPECT_EQ(root, v) << "n=" << n;
  }
}

TEST(CommunicatorTest, ZeroLengthCollectivesStayMatched) {
  // Every rank calls with n = 0 (and a null pointer), then a real reduction must still line up.
  Communicator& c = World();
  c.AllreduceSum(static_cast<float*>(nullptr), 0);
  c.AllreduceSum(static_cast<double*>(nullptr), 0);
  c.AllreduceMax(nullptr, 0);
  c.Broadcast(static_cast<float*>(nullptr), 0, 0);
  float one = 1.0f;
  c.AllreduceSum(&one, 1);
  EXPECT_EQ(one, static_cast<float>(c.size()));
}

TEST(CommunicatorTest, AllreduceMax) {
  Communicator& c = World();
  for (size_t n : kSizes) {
    // Even elements: the largest rank wins; odd elements: negative values, rank 0 wins.
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = i % 2 == 0 ? 10.0 * c.rank() + i : -1.0 - c.rank() - 0.5 * i;
    c.AllreduceMax(v.data(), n);
    size_t wrong = 0;
    for (size_t i = 0; i < n; ++i) {
      const double want = i % 2 == 0 ? 10.0 * (c.size() - 1) + i : -1.0 - 0.5 * i;
      wrong += v[i] != want;
    }
    EXPECT_EQ(wrong, 0u) << "n=" << n;
  }
}

TEST(CommunicatorTest, AllgatherIndexesByRank) {
  Communicator& c = World();
  const std::vector<double> all = c.Allgather(1.5 * c.rank() + 0.25);
  ASSERT_EQ(all.size(), static_cast<size_t>(c.size()));
  for (int r = 0; r < c.size(); ++r) EXPECT_EQ(all[r], 1.5 * r + 0.25) << "rank " << r;
  // Values a 52-bit fingerprint can take travel exactly.
  const double big = std::ldexp(1.0, 52) - 1 - c.rank();
  const std::vector<double> fps = c.Allgather(big);
  for (int r = 0; r < c.size(); ++r) EXPECT_EQ(fps[r], std::ldexp(1.0, 52) - 1 - r);
}

TEST(CommunicatorTest, BroadcastFloatsFromEveryRoot) {
  Communicator& c = World();
  for (int root = 0; root < c.size(); ++root) {
    for (size_t n : kSizes) {
      std::vector<float> v(n, -1.0f);
      if (c.rank() == root)
        for (size_t i = 0; i < n; ++i) v[i] = 1000.0f * root + static_cast<float>(i % 100000);
      c.Broadcast(v.data(), n, root);
      size_t wrong = 0;
      for (size_t i = 0; i < n; ++i)
        wrong += v[i] != 1000.0f * root + static_cast<float>(i % 100000);
      EXPECT_EQ(wrong, 0u) << "root " << root << " n=" << n;
    }
  }
}

TEST(CommunicatorTest, BroadcastStringsOfAnyLengthFromEveryRoot) {
  Communicator& c = World();
  std::string big(1000000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 256);
  const std::string with_nul("a\0b\0", 4);
  for (int root = 0; root < c.size(); ++root) {
    for (const std::string& sent : {std::string(), std::string("x"), with_nul, big}) {
      // Receivers start with something longer or different, which must be replaced entirely.
      std::string s = c.rank() == root ? sent : std::string(2000000, 'z');
      c.Broadcast(&s, root);
      EXPECT_EQ(s.size(), sent.size()) << "root " << root;
      EXPECT_TRUE(s == sent) << "root " << root << " length " << sent.size();
    }
  }
}

TEST(CommunicatorTest, BarrierWaitsForTheSlowestRank) {
  // Rank r sleeps r * 200 ms before the barrier; nobody may leave before the last rank arrives,
  // so everyone measures at least (p-1) * 200 ms from the first barrier. The 100 ms allowance
  // covers ranks leaving the first barrier at slightly different times (oversubscribed cores).
  Communicator& c = World();
  using Clock = std::chrono::steady_clock;
  c.Barrier();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(200 * c.rank()));
  c.Barrier();
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GE(waited, 0.2 * (c.size() - 1) - 0.1) << "rank " << c.rank();
}

std::vector<float> SomeParams() {
  std::vector<float> p(1000);
  for (size_t i = 0; i < p.size(); ++i) p[i] = std::sin(0.1f * i);
  return p;
}

// Runs CheckReplicasAgree on every rank and returns its message ("" when it passed); any other
// exception type fails the test.
std::string ReplicaCheckMessage(const std::vector<float>& params) {
  try {
    CheckReplicasAgree(World(), params, "in a test");
  } catch (const CollectiveError& e) {
    return e.what();
  }
  return "";
}

TEST(ReplicaCheckTest, EqualParametersPass) { EXPECT_EQ(ReplicaCheckMessage(SomeParams()), ""); }

TEST(ReplicaCheckTest, OnePerturbedRankIsNamedOnEveryRank) {
  Communicator& c = World();
  if (c.size() < 2) GTEST_SKIP() << "needs two ranks";
  for (int bad = 1; bad < c.size(); ++bad) {
    std::vector<float> p = SomeParams();
    if (c.rank() == bad) p[517] = std::nextafter(p[517], 2.0f);  // one ulp
    const std::string msg = ReplicaCheckMessage(p);
    // Every rank throws (the error is collective), and the message names the rank.
    EXPECT_NE(msg.find("rank(s) " + std::to_string(bad) + " "), std::string::npos)
        << "rank " << c.rank() << " got: '" << msg << "'";
    EXPECT_NE(msg.find("in a test"), std::string::npos) << msg;
  }
}

TEST(ReplicaCheckTest, SeveralDifferingRanksAreAllNamed) {
  Communicator& c = World();
  if (c.size() < 3) GTEST_SKIP() << "needs three ranks";
  // Rank 0 is the reference: when it alone differs, every other rank is reported.
  std::vector<float> p = SomeParams();
  if (c.rank() == 0) p[0] = -p[0] + 1.0f;
  std::string want = "rank(s) 1";
  for (int r = 2; r < c.size(); ++r) want += "," + std::to_string(r);
  const std::string msg = ReplicaCheckMessage(p);
  EXPECT_NE(msg.find(want + " "), std::string::npos)
      << "rank " << c.rank() << " got: '" << msg << "'";
}

// Sharded evaluation must equal a one-rank evaluation computed in this same process. Counts and
// correct predictions are integers (exact); loss and MSE are float per-sample values summed in
// double in a different order, so they agree to far better than 1e-6 relative.
void ExpectShardedEqualsLocal(const ModelSpec& spec, const Dataset& data, int chunk_rows) {
  Network<float> net(spec, chunk_rows);
  InitializeParams(spec, 5, net.params().data());
  const InputTransform t = FitInputTransform(data, "standardize");
  LocalCommunicator local;
  const EvalResult ref = EvaluateSharded(local, net, data, t);
  const EvalResult got = EvaluateSharded(World(), net, data, t);
  EXPECT_EQ(got.count, static_cast<double>(data.size));
  EXPECT_EQ(got.count, ref.count);
  EXPECT_EQ(got.accuracy, ref.accuracy) << data.source;
  EXPECT_NEAR(got.loss, ref.loss, 1e-6 * std::abs(ref.loss)) << data.source;
  EXPECT_NEAR(got.mse, ref.mse, 1e-6 * std::abs(ref.mse)) << data.source;
}

ModelSpec SpecFor(const Dataset& d) {
  ModelSpec s;
  s.input_dim = static_cast<int>(d.input_dim);
  s.hidden = {16, 8};
  s.activation = ActKind::kTanh;
  s.init = InitKind::kXavier;
  if (d.is_classification()) {
    s.output_dim = d.num_classes;
  } else {
    s.output_dim = static_cast<int>(d.target_dim);
    s.output = OutputKind::kIdentity;
    s.loss = LossKind::kMse;
  }
  return s;
}

TEST(EvaluateShardedTest, ClassificationEqualsOneRank) {
  const Dataset test = MakeSynthetic("parity:8", 1).test;
  ASSERT_TRUE(test.is_classification());
  ExpectShardedEqualsLocal(SpecFor(test), test, 37);  // chunks smaller than a shard
}

TEST(EvaluateShardedTest, RegressionEqualsOneRank) {
  const Dataset test = MakeSynthetic("surface", 1).test;  // 1600 samples: 3 does not divide it
  ExpectShardedEqualsLocal(SpecFor(test), test, 256);
}

TEST(EvaluateShardedTest, FewerSamplesThanRanks) {
  Dataset test = MakeSynthetic("surface", 1).test;
  test.size = 2;  // at np = 3 one rank scores nothing and still joins the allreduce
  test.values.resize(2 * test.input_dim);
  test.targets.resize(2);
  ExpectShardedEqualsLocal(SpecFor(test), test, 8);
}

// The whole trainer, in process: 50 steps at global batch 100 on this world vs on a world of
// one. Only float summation order differs (shards summed by the allreduce), so the parameters
// agree to ~1e-7 relative per step; 1e-5 is the invariance bound for 50 steps. Every rank must hold
// bitwise the same parameters.
TEST(TrainerMpiTest, FiftyStepsMatchOneRankAndReplicasAreIdentical) {
  DataSplit split = MakeSynthetic("surface", 1);
  TrainData data;
  data.train = std::move(split.train);
  data.test = std::move(split.test);
  data.transform = FitInputTransform(data.train, "none");
  ModelSpec spec = SpecFor(data.train);
  TrainConfig cfg;
  cfg.progress = "off";
  cfg.batch_size = 100;
  cfg.max_steps = 50;
  cfg.lr = 0.05;
  cfg.sgd.momentum = 0.9;
  LocalCommunicator local;
  const TrainSummary ref = Trainer(local, spec, data, cfg).Run();
  const TrainSummary got = Trainer(World(), spec, data, cfg).Run();
  EXPECT_EQ(got.steps, 50);
  EXPECT_EQ(got.samples_seen, ref.samples_seen);
  ASSERT_EQ(got.params.size(), ref.params.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.params.size(); ++i) {
    diff += (double(got.params[i]) - ref.params[i]) * (double(got.params[i]) - ref.params[i]);
    norm += double(ref.params[i]) * ref.params[i];
  }
  EXPECT_LE(std::sqrt(diff / norm), 1e-5);
  const std::vector<double> fps =
      World().Allgather(Fingerprint(got.params.data(), got.params.size()));
  for (int r = 1; r < World().size(); ++r) EXPECT_EQ(fps[r], fps[0]) << "rank " << r;
}

}  // namespace
}  // namespace dpmlp
