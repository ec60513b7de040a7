// GradientExchange under real ranks (np = 1, 2, 3): bucketed fp32 sums equal the fused call's
// bit for bit, whatever the bucket size and however backward splits the buffer; bf16 sums are
// exact where bf16 can hold them and the tail stays exact fp32; spans out of order are refused;
// the shared-memory sum gives the rank-order sum on every rank, step after step; the sharded
// update (ZeRO stage 1, over the shared window and over MPI's ring) gives the replicated update's
// parameters, velocity and tail, and agrees on every rank about a non-finite gradient.
#include "dist/grad_exchange.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/bf16.h"
#include "core/error.h"
#include "core/model_spec.h"
#include "core/optimizer.h"
#include "tests/dist/mpi/world.h"

namespace dpmlp {
namespace {

using mpi_test::World;

constexpr size_t kParams = 10007, kTail = 5;

// Rank r's gradient entry i: m * 2^r * 2^e with m = 1 + i % 15 and e = i % 21 - 10. The sum over p
// ranks, m * (2^p - 1) * 2^e, has at most 7 significant bits, so it is exact in fp32 and in bf16,
// in any order, and its factor (2^p - 1) shows each rank counted once.
float Grad(size_t i, int rank) {
  return std::ldexp(static_cast<float>(1 + i % 15), rank + static_cast<int>(i % 21) - 10);
}
float GradSum(size_t i, int world) {
  return std::ldexp(static_cast<float>((1 + i % 15) * ((1 << world) - 1)),
                    static_cast<int>(i % 21) - 10);
}
// Tail entries need full fp32 precision (1000.125 has 14 significant bits).
float Tail(size_t k, int rank) { return 1000.125f + static_cast<float>(k + rank); }
float TailSum(size_t k, int world) {
  return 1000.125f * world + static_cast<float>(k * world + world * (world - 1) / 2);
}

std::vector<float> Filled(int rank) {
  std::vector<float> g(kParams + kTail);
  for (size_t i = 0; i < kParams; ++i) g[i] = Grad(i, rank);
  for (size_t k = 0; k < kTail; ++k) g[kParams + k] = Tail(k, rank);
  return g;
}

// Plays backward: reports [0, kParams) from the end down in spans of the given sizes.
void Backward(GradientSink* sink, const std::vector<size_t>& spans) {
  if (!sink) return;
  size_t end = kParams;
  for (size_t k = 0; end > 0; ++k) {
    const size_t len = std::min(end, spans[k % spans.size()]);
    sink->Ready(end - len, end);
    end -= len;
  }
}

// Copies `values` into the exchange's buffer, runs one step and returns the sums.
std::vector<float> Step(GradientExchange& ex, const std::vector<float>& values,
                        const std::vector<size_t>& spans = {}) {
  std::copy(values.begin(), values.end(), ex.buffer());
  Backward(ex.BeginStep(), spans);
  ex.Finish();
  return std::vector<float>(ex.sums(), ex.sums() + values.size());
}

// The options with the replicated update: Finish() and sums() belong to it.
ExchangeOptions Replicated(size_t bucket, bool bf16, SumPath path = SumPath::kAuto) {
  return {bucket, bf16, path, UpdatePath::kReplicated};
}

std::vector<float> Exchange(const ExchangeOptions& o, const std::vector<size_t>& spans) {
  GradientExchange ex(World(), kParams, kTail, o);
  return Step(ex, Filled(World().rank()), spans);
}

TEST(GradExchangeTest, BucketedFp32EqualsTheFusedCallBitForBit) {
  const int p = World().size();
  const std::vector<float> fused = Exchange(Replicated(0, false), {});
  for (size_t i = 0; i < kParams; ++i) ASSERT_EQ(fused[i], GradSum(i, p)) << i;
  for (size_t k = 0; k < kTail; ++k) EXPECT_EQ(fused[kParams + k], TailSum(k, p)) << k;
  for (size_t bucket : {size_t{1}, size_t{100}, size_t{3000}, size_t{1} << 30})
    for (const std::vector<size_t>& spans :
         {std::vector<size_t>{1}, std::vector<size_t>{257, 3}, std::vector<size_t>{kParams}}) {
      if (bucket == 1 && spans[0] == 1) continue;  // 10^4 one-float allreduces: slow, no news
      const std::vector<float> got = Exchange(Replicated(bucket, false), spans);
      size_t wrong = 0;
      for (size_t i = 0; i < got.size(); ++i) wrong += got[i] != fused[i];
      EXPECT_EQ(wrong, 0u) << "bucket " << bucket << ", first span " << spans[0];
    }
}

TEST(GradExchangeTest, Bf16SumsExactValuesExactlyAndKeepsTheTailInFp32) {
  const int p = World().size();
  for (size_t bucket : {size_t{0}, size_t{64}, size_t{4096}}) {
    const std::vector<float> got = Exchange(Replicated(bucket, true), {500, 77});
    size_t wrong = 0;
    for (size_t i = 0; i < kParams; ++i) wrong += got[i] != (p == 1 ? Grad(i, 0) : GradSum(i, p));
    EXPECT_EQ(wrong, 0u) << "bucket " << bucket;
    for (size_t k = 0; k < kTail; ++k) EXPECT_EQ(got[kParams + k], TailSum(k, p)) << k;
  }
}

TEST(GradExchangeTest, Bf16RoundsWhatItCannotHold) {
  Communicator& c = World();
  if (c.size() < 2) GTEST_SKIP() << "one rank sends nothing";
  // 1 + 2^-10 on every rank: bf16 holds 8 significant bits, so each rank's value rounds to 1 and
  // the sum is the rank count, where fp32 keeps the 2^-10.
  GradientExchange ex(c, kParams, kTail, Replicated(0, true));
  const std::vector<float> g =
      Step(ex, std::vector<float>(kParams + kTail, 1.0f + std::ldexp(1.0f, -10)));
  EXPECT_EQ(g[0], static_cast<float>(c.size()));
  EXPECT_EQ(g[kParams], c.size() * (1.0f + std::ldexp(1.0f, -10)));
}

TEST(GradExchangeTest, SpansOutOfOrderAreAnInternalError) {
  Communicator& c = World();
  if (c.size() < 2) GTEST_SKIP() << "one rank has no sink";
  GradientExchange ex(c, kParams, kTail, Replicated(1u << 20, false));
  const std::vector<float> values = Filled(c.rank());
  std::copy(values.begin(), values.end(), ex.buffer());
  GradientSink* sink = ex.BeginStep();
  ASSERT_NE(sink, nullptr);
  try {
    sink->Ready(0, 10);  // the first span must end at kParams
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitInternal);
    EXPECT_NE(std::string(e.what()).find("out of order"), std::string::npos) << e.what();
  }
  // Nothing was started, so the exchange can still run properly afterwards.
  sink->Ready(0, kParams);
  ex.Finish();
  EXPECT_EQ(ex.sums()[5], GradSum(5, c.size()));
}

// A value with all 24 bits of the mantissa in play, different for every (i, rank, call), so the
// sum depends on its order: a fixed order is what the shared-memory sum promises.
float Ragged(size_t i, int rank, int call) {
  const uint32_t h = static_cast<uint32_t>(i * 2654435761u + rank * 40503u + call * 9973u);
  return (static_cast<float>(h % 1000003) / 1000003.0f - 0.5f) * std::ldexp(1.0f, rank - 3);
}

TEST(GradExchangeTest, SharedMemorySumIsExactAndTheAutoDefaultOnOneHost) {
  Communicator& c = World();
  const int p = c.size();
  std::string shared_path;
  {
    GradientExchange ex(c, kParams, kTail, Replicated(0, false, SumPath::kShared));
    shared_path = ex.Describe();
    if (p > 1) {
      EXPECT_NE(shared_path.find("shared-memory"), std::string::npos) << shared_path;
      // No copy: the buffer is a slot of the window, the sums its result block.
      EXPECT_NE(ex.buffer(), ex.sums());
    }
    const std::vector<float> g = Step(ex, Filled(c.rank()));
    for (size_t i = 0; i < kParams; ++i) ASSERT_EQ(g[i], GradSum(i, p)) << i;
    for (size_t k = 0; k < kTail; ++k) EXPECT_EQ(g[kParams + k], TailSum(k, p)) << k;
  }
  // The ranks of this test share one host and the window is small: auto takes the same path.
  GradientExchange automatic(c, kParams, kTail, Replicated(0, false));
  EXPECT_EQ(automatic.Describe(), shared_path);
  GradientExchange mpi(c, kParams, kTail, Replicated(0, false, SumPath::kMpi));
  if (p > 1) {
    EXPECT_EQ(mpi.Describe(), "MPI allreduce");
  }
}

// Many steps through one window, one rank late in turn (so the others run ahead into the next
// step's copy while it still reads the last sum): every step's sums are the rank-order sums, on
// every rank; at 2 ranks also bitwise what MPI's allreduce gives.
TEST(GradExchangeTest, SharedMemorySumOverManyStepsWithALateRank) {
  Communicator& c = World();
  const int p = c.size();
  GradientExchange shared(c, kParams, kTail, Replicated(0, false, SumPath::kShared));
  GradientExchange mpi(c, kParams, kTail, Replicated(0, false, SumPath::kMpi));
  std::vector<float> values(kParams + kTail);
  size_t wrong = 0, differs_from_mpi = 0;
  for (int call = 0; call < 40; ++call) {
    for (size_t i = 0; i < values.size(); ++i) values[i] = Ragged(i, c.rank(), call);
    if (call % p == c.rank()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::vector<float> g = Step(shared, values);
    const std::vector<float> viampi = Step(mpi, values);
    for (size_t i = 0; i < g.size(); ++i) {
      float want = Ragged(i, 0, call);
      for (int r = 1; r < p; ++r) want += Ragged(i, r, call);
      wrong += g[i] != want;
      differs_from_mpi += g[i] != viampi[i];
    }
  }
  EXPECT_EQ(wrong, 0u);
  if (p <= 2) {
    EXPECT_EQ(differs_from_mpi, 0u);  // a + b is b + a
  }
}

// A model whose layout has kSgdParams parameters in three layers, so that shares cut through
// layers and max-norm rows cross share boundaries.
ModelSpec SgdSpec() {
  ModelSpec s;
  s.input_dim = 37;
  s.hidden = {29, 13};
  s.output_dim = 7;
  return s;
}

struct UpdateRun {
  std::vector<float> params, velocity, tail;
  std::string describe;
};

// 12 steps of Ragged gradients through an exchange with these options and an optimizer with
// these, one rank late in turn; returns the parameters, the whole velocity and the last tail sums.
UpdateRun RunUpdates(const ExchangeOptions& o, const SgdOptions& sgd) {
  Communicator& c = World();
  const ParamLayout layout(SgdSpec());
  const size_t n = layout.size();
  GradientExchange ex(c, n, kTail, o);
  MomentumSgd opt(layout, sgd);
  if (ex.sharded()) opt.SetShard(ex.share_begin(), ex.share_end());
  UpdateRun run;
  run.describe = ex.Describe();
  run.params.resize(n);
  for (size_t i = 0; i < n; ++i) run.params[i] = Ragged(i, 0, 99) * 4.0f;
  for (int call = 0; call < 12; ++call) {
    for (size_t i = 0; i < n + kTail; ++i) ex.buffer()[i] = Ragged(i, c.rank(), call);
    if (call % c.size() == c.rank()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ex.BeginStep();
    EXPECT_TRUE(ex.SumAndUpdate(opt, run.params.data(), 64.0, 0.3));
    ex.CompleteParams();  // as the trainer does before the next forward pass
  }
  run.velocity = ex.WholeVelocity(opt);
  run.tail.assign(ex.tail_sums(), ex.tail_sums() + kTail);
  return run;
}

size_t Differing(const std::vector<float>& a, const std::vector<float>& b) {
  size_t d = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d += a[i] != b[i];
  return d;
}

// ||a - b|| / ||a||, as the e2e invariance test measures models.
double RelL2(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(a[i]) * a[i];
  }
  return std::sqrt(diff / norm);
}

// The sharded update against the replicated one, for every form of the update: over the shared
// window the sums are the same rank-order sums, so the parameters and the velocity are bitwise
// equal at any rank count (except with clipping, whose norm is summed share by share); over MPI's
// ring they are bitwise equal at 2 ranks (a + b is b + a) and within float rounding at 3.
TEST(GradExchangeTest, ShardedUpdateGivesTheReplicatedUpdate) {
  Communicator& c = World();
  const int p = c.size();
  SgdOptions plain;
  plain.momentum = 0.9;
  SgdOptions decayed = plain;
  decayed.nesterov = true;
  decayed.weight_decay = 0.01;
  decayed.l1 = 0.001;
  SgdOptions clipped = plain;
  clipped.clip_norm = 0.05;  // Ragged's mean gradients have norms near 0.2: the clip acts
  SgdOptions capped = plain;
  capped.max_norm = 1.5;
  const std::vector<std::pair<const char*, SgdOptions>> forms = {
      {"momentum", plain}, {"nesterov+l2+l1", decayed}, {"clip", clipped}, {"max-norm", capped}};
  for (const auto& [name, sgd] : forms) {
    for (SumPath path : {SumPath::kShared, SumPath::kMpi}) {
      const UpdateRun rep = RunUpdates({0, false, path, UpdatePath::kReplicated}, sgd);
      const UpdateRun sh = RunUpdates({0, false, path, UpdatePath::kSharded}, sgd);
      // The allgather left running until CompleteParams gives the same bits (over the window
      // the option does not apply).
      const UpdateRun overlapped = RunUpdates({0, false, path, UpdatePath::kSharded, true}, sgd);
      EXPECT_EQ(Differing(sh.params, overlapped.params), 0u) << name;
      EXPECT_EQ(Differing(sh.velocity, overlapped.velocity), 0u) << name;
      if (p > 1 && path == SumPath::kMpi) {
        EXPECT_NE(overlapped.describe.find("overlapped"), std::string::npos) << overlapped.describe;
      }
      const std::string where =
          std::string(name) + (path == SumPath::kShared ? ", shared window" : ", MPI");
      if (p > 1) {
        EXPECT_NE(sh.describe.find("sharded update"), std::string::npos) << sh.describe;
      }
      const bool same_sums = path == SumPath::kShared || p <= 2;
      if (same_sums) {
        EXPECT_EQ(Differing(rep.tail, sh.tail), 0u) << where;
      } else {
        EXPECT_LT(RelL2(rep.tail, sh.tail), 1e-6) << where;
      }
      if (sgd.clip_norm == 0.0 && same_sums) {
        EXPECT_EQ(Differing(rep.params, sh.params), 0u) << where;
        EXPECT_EQ(Differing(rep.velocity, sh.velocity), 0u) << where;
      } else {
        EXPECT_LT(RelL2(rep.params, sh.params), 1e-6) << where;
        EXPECT_LT(RelL2(rep.velocity, sh.velocity), 1e-5) << where;
      }
      // Every rank holds the same parameters and the same whole velocity.
      for (const std::vector<float>* v : {&sh.params, &sh.velocity}) {
        std::vector<float> root = *v;
        c.Broadcast(root.data(), root.size(), 0);
        EXPECT_EQ(Differing(root, *v), 0u) << where;
      }
    }
  }
}

// One non-finite gradient on one rank: every rank's SumAndUpdate says so, and every rank names
// the same first parameter, whichever rank's share holds it.
TEST(GradExchangeTest, ShardedUpdateAgreesOnANonFiniteGradient) {
  Communicator& c = World();
  const int p = c.size();
  const ParamLayout layout(SgdSpec());
  const size_t n = layout.size();
  SgdOptions sgd;
  sgd.momentum = 0.5;
  for (SumPath path : {SumPath::kShared, SumPath::kMpi}) {
    for (size_t bad : {size_t{3}, n / 2 + 1, n - 2}) {
      GradientExchange ex(c, n, kTail, {0, false, path, UpdatePath::kSharded});
      MomentumSgd opt(layout, sgd);
      if (ex.sharded()) opt.SetShard(ex.share_begin(), ex.share_end());
      std::vector<float> params(n, 0.5f);
      for (size_t i = 0; i < n + kTail; ++i) ex.buffer()[i] = Ragged(i, c.rank(), 1);
      if (c.rank() == p - 1) ex.buffer()[bad] = std::nanf("");
      if (bad == n - 2 && c.rank() == 0) ex.buffer()[bad + 1] = INFINITY;  // a later one too
      ex.BeginStep();
      EXPECT_FALSE(ex.SumAndUpdate(opt, params.data(), 8.0, 0.1)) << bad;
      EXPECT_EQ(ex.FirstNonFinite(), bad);
    }
  }
}

TEST(GradExchangeTest, ShardedUpdateRefusesBucketsAndBf16) {
  Communicator& c = World();
  if (c.size() < 2) GTEST_SKIP() << "one rank has nothing to shard";
  for (const ExchangeOptions& o :
       {ExchangeOptions{64, false, SumPath::kAuto, UpdatePath::kSharded},
        ExchangeOptions{0, true, SumPath::kAuto, UpdatePath::kSharded}}) {
    try {
      GradientExchange ex(c, kParams, kTail, o);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kExitUsage);
      EXPECT_NE(std::string(e.what()).find("--update sharded"), std::string::npos) << e.what();
    }
  }
  // auto keeps the replicated update where the sum is not fused fp32.
  GradientExchange bucketed(c, kParams, kTail, {64, false});
  EXPECT_FALSE(bucketed.sharded());
  GradientExchange fused(c, kParams, kTail, {});
  EXPECT_TRUE(fused.sharded());
}

}  // namespace
}  // namespace dpmlp
