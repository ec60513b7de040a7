// The plot figures' pure helpers: best-epoch choice, residuals, colour ranges, label thinning.
#include "launcher/plot_series.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/dataset.h"

namespace dpmlp {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

MetricsTable Table(std::vector<std::string> keys, std::vector<std::vector<double>> rows) {
  MetricsTable m;
  m.source = "test.jsonl";
  m.keys = std::move(keys);
  m.rows = std::move(rows);
  return m;
}

TEST(FindBestEpoch, LowestValidationLossWhenPresent) {
  // test_loss is lowest at epoch 4, val_loss at epoch 2: validation wins.
  const MetricsTable m = Table({"epoch", "test_loss", "val_loss"},
                               {{1, 0.9, 0.8}, {2, 0.5, 0.3}, {3, 0.4, 0.35}, {4, 0.2, 0.4}});
  const BestEpoch b = FindBestEpoch(m);
  ASSERT_TRUE(b.found);
  EXPECT_EQ(b.key, "val_loss");
  EXPECT_EQ(b.row, 1u);
  EXPECT_EQ(b.epoch, 2);
  EXPECT_EQ(b.loss, 0.3);
}

TEST(FindBestEpoch, TestLossWithoutValidationAndEarliestOnTie) {
  const MetricsTable m =
      Table({"epoch", "train_loss", "test_loss"}, {{5, 0.1, 0.7}, {6, 0.05, 0.6}, {7, 0.01, 0.6}});
  const BestEpoch b = FindBestEpoch(m);
  ASSERT_TRUE(b.found);
  EXPECT_EQ(b.key, "test_loss");
  EXPECT_EQ(b.epoch, 6);  // the tie with epoch 7 goes to the earlier one
}

TEST(FindBestEpoch, ValidationKeyWithoutValuesFallsBackToTest) {
  // A val_loss column that holds only NaN (the key appeared with a non-number) is no validation.
  const MetricsTable m = Table({"test_loss", "val_loss"}, {{0.5, kNaN}, {0.4, kNaN}, {0.45, kNaN}});
  const BestEpoch b = FindBestEpoch(m);
  ASSERT_TRUE(b.found);
  EXPECT_EQ(b.key, "test_loss");
  EXPECT_EQ(b.epoch, 2);  // no epoch column: row index + 1
}

TEST(FindBestEpoch, NoneWithoutTestOrValidationLoss) {
  EXPECT_FALSE(FindBestEpoch(Table({"epoch", "train_loss"}, {{1, 0.5}, {2, 0.4}})).found);
}

TEST(EpochOfRow, EpochColumnOrRowNumber) {
  const MetricsTable m = Table({"epoch", "lr"}, {{10, 0.1}, {kNaN, 0.05}});
  EXPECT_EQ(EpochOfRow(m, 0), 10);
  EXPECT_EQ(EpochOfRow(m, 1), 2);
}

TEST(Residuals, TruthMinusFitOfTheSurface) {
  const std::vector<double> truth = {SurfaceZ(0, 0), SurfaceZ(1, 2), SurfaceZ(-3, 3)};
  const std::vector<float> fit = {0.25f, -0.5f, 1.0f};
  const std::vector<double> r = Residuals(truth, fit);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_DOUBLE_EQ(r[0], std::sin(0.0) - 0.25);
  EXPECT_DOUBLE_EQ(r[1], std::sin(1 + 0.1 * 4) + 0.5);
  EXPECT_DOUBLE_EQ(r[2], std::sin(-3 + 0.1 * 9) - 1.0);
}

TEST(ValueRanges, FittedAndSymmetric) {
  const std::vector<double> v = {0.5, -0.25, kNaN, 2.0, INFINITY};
  const ValueRange r = RangeOf(v);
  EXPECT_EQ(r.lo, -0.25);
  EXPECT_EQ(r.hi, 2.0);
  const ValueRange s = SymmetricRange(v);
  EXPECT_EQ(s.lo, -2.0);
  EXPECT_EQ(s.hi, 2.0);
  // Degenerate inputs still give a non-empty range.
  EXPECT_EQ(RangeOf({3.0, 3.0}).lo, 2.5);
  EXPECT_EQ(RangeOf({3.0, 3.0}).hi, 3.5);
  EXPECT_LT(RangeOf({kNaN}).lo, RangeOf({kNaN}).hi);
  EXPECT_GT(SymmetricRange({0.0, 0.0}).hi, 0.0);
}

TEST(LabelStep, EveryRowWhenTheyFitElseThinned) {
  EXPECT_EQ(LabelStep(60, 780, 11), 1);    // 13 px per row
  EXPECT_EQ(LabelStep(60, 330, 11), 2);    // 5.5 px per row
  EXPECT_EQ(LabelStep(500, 1300, 11), 5);  // 2.6 px per row: every 5th is 13 px apart
  EXPECT_EQ(LabelStep(0, 100, 11), 1);
}

}  // namespace
}  // namespace dpmlp
