// ShardRange: how one global batch is cut among ranks (DESIGN.md "One training step", item 2).
#include "dist/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

namespace dpmlp {
namespace {

// Every (batch, world) pair up to these bounds, plus a few large batches.
constexpr int64_t kMaxBatch = 130;
constexpr int kMaxWorld = 17;

TEST(ShardRangeTest, ShardsAreContiguousAndCoverTheBatchExactlyOnce) {
  for (int64_t b :
       {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{100}, int64_t{1001}, int64_t{1} << 40}) {
    for (int p = 1; p <= kMaxWorld; ++p) {
      int64_t next = 0;
      for (int r = 0; r < p; ++r) {
        const ShardRange s = ShardRange::Of(b, r, p);
        EXPECT_EQ(s.begin, next) << "b=" << b << " p=" << p << " r=" << r;
        EXPECT_GE(s.size(), 0) << "b=" << b << " p=" << p << " r=" << r;
        next = s.end;
      }
      EXPECT_EQ(next, b) << "b=" << b << " p=" << p;
    }
  }
}

TEST(ShardRangeTest, SizesDifferByAtMostOneForEveryBatchAndWorld) {
  for (int64_t b = 0; b <= kMaxBatch; ++b) {
    for (int p = 1; p <= kMaxWorld; ++p) {
      int64_t lo = INT64_MAX, hi = -1, total = 0, next = 0;
      for (int r = 0; r < p; ++r) {
        const ShardRange s = ShardRange::Of(b, r, p);
        ASSERT_EQ(s.begin, next) << "b=" << b << " p=" << p << " r=" << r;
        next = s.end;
        lo = std::min(lo, s.size());
        hi = std::max(hi, s.size());
        total += s.size();
      }
      EXPECT_EQ(total, b) << "b=" << b << " p=" << p;
      EXPECT_LE(hi - lo, 1) << "b=" << b << " p=" << p;
      // The sizes are exactly floor(b/p) and ceil(b/p).
      EXPECT_EQ(lo, b / p) << "b=" << b << " p=" << p;
      EXPECT_EQ(hi, (b + p - 1) / p) << "b=" << b << " p=" << p;
    }
  }
}

TEST(ShardRangeTest, SmallBatchLeavesSomeRanksEmpty) {
  // b < p: exactly p - b ranks get nothing, the other b ranks one sample each.
  for (int p = 2; p <= kMaxWorld; ++p) {
    for (int64_t b = 0; b < p; ++b) {
      int empty = 0;
      for (int r = 0; r < p; ++r) {
        const ShardRange s = ShardRange::Of(b, r, p);
        EXPECT_LE(s.size(), 1);
        if (s.size() == 0) {
          ++empty;
          EXPECT_EQ(s.begin, s.end);
        }
      }
      EXPECT_EQ(empty, p - b) << "b=" << b << " p=" << p;
    }
  }
  // The documented formula, on the case the invariance tests use: 100 over 3 ranks.
  EXPECT_EQ(ShardRange::Of(100, 0, 3).size(), 33);
  EXPECT_EQ(ShardRange::Of(100, 1, 3).size(), 33);
  EXPECT_EQ(ShardRange::Of(100, 2, 3).size(), 34);
  EXPECT_EQ(ShardRange::Of(100, 2, 3).end, 100);
}

TEST(ShardRangeTest, OneRankTakesTheWholeBatch) {
  for (int64_t b = 0; b <= kMaxBatch; ++b) {
    const ShardRange s = ShardRange::Of(b, 0, 1);
    EXPECT_EQ(s.begin, 0);
    EXPECT_EQ(s.end, b);
  }
}

}  // namespace
}  // namespace dpmlp
