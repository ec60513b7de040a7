// The two agreements of dist/rank_zero.h under real ranks (np = 1, 2 and 3): what rank 0 did,
// or the error it met, reaches every rank; when ranks fail on their own, every rank ends with
// the lowest failing rank's code and message.
#include "dist/rank_zero.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "tests/dist/mpi/world.h"

namespace dpmlp {
namespace {

using mpi_test::World;

// The code and message every rank got from `f`, or {0, ""} when it returned.
std::pair<int, std::string> Outcome(const std::function<void()>& f) {
  try {
    f();
  } catch (const CollectiveError& e) {
    return {e.code(), e.what()};
  }
  return {0, ""};
}

// Each rank's value of x, gathered (ranks hold small integers).
std::vector<double> Everyone(Communicator& c, int x) { return c.Allgather(x); }

TEST(RankZeroActsTest, OnlyRankZeroActsAndEveryRankGetsItsResult) {
  Communicator& c = World();
  int ran = 0;
  const std::string got = RankZeroActs(c, [&] {
    ++ran;
    return "from rank " + std::to_string(c.rank()) + std::string(1, '\0') + "and after a NUL";
  });
  EXPECT_EQ(got, std::string("from rank 0") + '\0' + "and after a NUL");
  const std::vector<double> runs = Everyone(c, ran);
  for (int r = 0; r < c.size(); ++r) EXPECT_EQ(runs[r], r == 0 ? 1 : 0) << "rank " << r;
}

TEST(RankZeroActsTest, RankZerosErrorReachesEveryRankWithItsCode) {
  Communicator& c = World();
  const auto got = Outcome([&] {
    RankZeroActs(c, []() -> std::string { throw Error(kExitDiverged, "rank 0 saw a NaN"); });
  });
  EXPECT_EQ(got.first, kExitDiverged);
  EXPECT_EQ(got.second, "rank 0 saw a NaN");
}

TEST(RankZeroWritesTest, AFailedWriteIsAnIoErrorAndAUsageErrorStaysOne) {
  Communicator& c = World();
  const auto io =
      Outcome([&] { RankZeroWrites(c, [] { throw Error(kExitInternal, "/tmp/x: disk full"); }); });
  EXPECT_EQ(io.first, kExitIo);
  EXPECT_EQ(io.second, "/tmp/x: disk full");
  const auto usage = Outcome([&] { RankZeroWrites(c, [] { throw UsageError("--out: bad"); }); });
  EXPECT_EQ(usage.first, kExitUsage);
  EXPECT_EQ(Outcome([&] { RankZeroWrites(c, [] {}); }).first, 0);
}

TEST(EveryRankActsTest, EveryRankActsAndNoneThrowsWhenAllSucceed) {
  Communicator& c = World();
  int ran = 0;
  EXPECT_EQ(Outcome([&] { EveryRankActs(c, [&] { ++ran; }); }).first, 0);
  for (double r : Everyone(c, ran)) EXPECT_EQ(r, 1);
}

TEST(EveryRankActsTest, TheLowestFailingRankSpeaksForAll) {
  Communicator& c = World();
  const int last = c.size() - 1;
  // The last rank fails with exit 3; with three ranks rank 1 fails too, with exit 2 and a
  // message of another length, and wins as the lower rank.
  const auto got = Outcome([&] {
    EveryRankActs(c, [&] {
      if (c.size() == 3 && c.rank() == 1) throw UsageError("rank 1's input is bad");
      if (c.rank() == last) throw Error(kExitDiverged, "the last rank diverged");
    });
  });
  if (c.size() == 3) {
    EXPECT_EQ(got.first, kExitUsage);
    EXPECT_EQ(got.second, "[rank 1] rank 1's input is bad");
  } else {
    EXPECT_EQ(got.first, kExitDiverged);
    EXPECT_EQ(got.second, (last > 0 ? "[rank " + std::to_string(last) + "] " : std::string()) +
                              "the last rank diverged");
  }
  // An exception that is not an Error counts as an internal error.
  const auto internal =
      Outcome([&] { EveryRankActs(c, [] { throw std::runtime_error("bad_alloc-like"); }); });
  EXPECT_EQ(internal.first, kExitInternal);
  EXPECT_EQ(internal.second, "bad_alloc-like");
}

}  // namespace
}  // namespace dpmlp
