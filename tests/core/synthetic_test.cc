#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "core/dataset.h"
#include "core/rng.h"
#include "tests/core/data_test_util.h"

namespace dpmlp {
namespace {

using testing_util::ExpectUsageError;

const double kPi = std::acos(-1.0);

TEST(SyntheticTest, SinSizesRangesAndFormula) {
  const DataSplit s = MakeSynthetic("sin", 7);
  for (const Dataset* d : {&s.train, &s.test}) {
    EXPECT_FALSE(d->is_classification());
    EXPECT_EQ(d->input_dim, 1u);
    EXPECT_EQ(d->target_dim, 1u);
    EXPECT_EQ(d->values.size(), d->size);
    EXPECT_EQ(d->targets.size(), d->size);
    for (size_t i = 0; i < d->size; ++i) {
      const float x = d->values[i];
      EXPECT_GE(x, -kPi - 1e-6);
      EXPECT_LE(x, kPi + 1e-6);
      EXPECT_NEAR(d->targets[i], std::sin(x), 1e-6);
    }
  }
  EXPECT_EQ(s.train.size, 1000u);
  EXPECT_EQ(s.test.size, 500u);
  // Train points come from the documented key.
  const double u5 = UniformFromHash(HashKey(7, RngPurpose::kSynthetic, 0, 5));
  EXPECT_NEAR(s.train.values[5], -kPi + 2 * kPi * u5, 1e-6);
  // Test points are evenly spaced and cover both ends.
  EXPECT_NEAR(s.test.values.front(), -kPi, 1e-6);
  EXPECT_NEAR(s.test.values.back(), kPi, 1e-6);
  const double step = 2 * kPi / (s.test.size - 1);
  for (size_t k = 1; k < s.test.size; ++k) {
    EXPECT_NEAR(s.test.values[k] - s.test.values[k - 1], step, 1e-5);
  }
}

TEST(SyntheticTest, SeedDeterminesTrainOnly) {
  const DataSplit a = MakeSynthetic("sin", 1), b = MakeSynthetic("sin", 1);
  const DataSplit c = MakeSynthetic("sin", 2);
  EXPECT_EQ(a.train.values, b.train.values);
  EXPECT_NE(a.train.values, c.train.values);
  EXPECT_EQ(a.test.values, c.test.values);
  // Uniform draws should spread over the interval: both halves well populated.
  const size_t negative =
      std::count_if(a.train.values.begin(), a.train.values.end(), [](float x) { return x < 0; });
  EXPECT_GT(negative, 400u);
  EXPECT_LT(negative, 600u);
}

TEST(SyntheticTest, SurfaceSizesRangesAndFormula) {
  const DataSplit s = MakeSynthetic("surface", 3);
  EXPECT_EQ(s.train.size, 4000u);
  EXPECT_EQ(s.test.size, 40u * 40u);
  for (const Dataset* d : {&s.train, &s.test}) {
    EXPECT_EQ(d->input_dim, 2u);
    EXPECT_EQ(d->target_dim, 1u);
    ASSERT_EQ(d->values.size(), 2 * d->size);
    for (size_t i = 0; i < d->size; ++i) {
      const double x = d->values[2 * i], y = d->values[2 * i + 1];
      EXPECT_GE(x, -3.0);
      EXPECT_LE(x, 3.0);
      EXPECT_GE(y, -3.0);
      EXPECT_LE(y, 3.0);
      EXPECT_NEAR(d->targets[i], std::sin(x + 0.1 * y * y), 1e-5);
    }
  }
  // The test grid has 40 distinct x and 40 distinct y values including the corners.
  std::set<float> xs, ys;
  for (size_t i = 0; i < s.test.size; ++i) {
    xs.insert(s.test.values[2 * i]);
    ys.insert(s.test.values[2 * i + 1]);
  }
  EXPECT_EQ(xs.size(), 40u);
  EXPECT_EQ(ys.size(), 40u);
  EXPECT_FLOAT_EQ(*xs.begin(), -3.0f);
  EXPECT_FLOAT_EQ(*xs.rbegin(), 3.0f);
  EXPECT_FLOAT_EQ(*ys.begin(), -3.0f);
  EXPECT_FLOAT_EQ(*ys.rbegin(), 3.0f);
}

TEST(SyntheticTest, ParityIsFullTruthTable) {
  for (int n : {1, 3, 8}) {
    const DataSplit s = MakeSynthetic("parity:" + std::to_string(n), 0);
    const Dataset& d = s.train;
    ASSERT_EQ(d.size, size_t{1} << n);
    EXPECT_EQ(d.input_dim, static_cast<size_t>(n));
    EXPECT_EQ(d.num_classes, 2);
    EXPECT_EQ(s.test.values, d.values);
    EXPECT_EQ(s.test.labels, d.labels);
    std::set<std::string> patterns;
    for (size_t p = 0; p < d.size; ++p) {
      std::string bits;
      int ones = 0;
      for (size_t j = 0; j < d.input_dim; ++j) {
        const float v = d.values[p * d.input_dim + j];
        ASSERT_TRUE(v == 0.0f || v == 1.0f);
        bits += v == 1.0f ? '1' : '0';
        ones += v == 1.0f;
      }
      patterns.insert(bits);
      EXPECT_EQ(d.labels[p], ones % 2) << bits;
    }
    EXPECT_EQ(patterns.size(), d.size);  // every pattern exactly once
  }
}

TEST(SyntheticTest, ParityLargestSize) {
  const DataSplit s = MakeSynthetic("parity:20", 0);
  EXPECT_EQ(s.train.size, size_t{1} << 20);
  EXPECT_EQ(s.train.labels.back(), 0);  // twenty ones
}

TEST(SyntheticTest, BadNames) {
  for (const char* name :
       {"parity:0", "parity:21", "parity:", "parity:x", "parity:3x", "parity:-1"}) {
    ExpectUsageError([&] { MakeSynthetic(name, 0); }, {name, "[1, 20]"});
  }
  ExpectUsageError([&] { MakeSynthetic("cosine", 0); }, {"cosine", "sin", "surface", "parity:N"});
}

TEST(SplitValidationTest, DeterministicOrderedRoughFraction) {
  const DataSplit s = MakeSynthetic("sin", 11);
  Dataset train_a = s.train, train_b = s.train;
  const Dataset val_a = SplitValidation(&train_a, 0.2, 99);
  const Dataset val_b = SplitValidation(&train_b, 0.2, 99);
  EXPECT_EQ(val_a.values, val_b.values);
  EXPECT_EQ(train_a.values, train_b.values);
  EXPECT_EQ(train_a.size + val_a.size, s.train.size);
  EXPECT_EQ(val_a.values.size(), val_a.size);
  EXPECT_EQ(val_a.targets.size(), val_a.size);
  // 1000 draws at p = 0.2: mean 200, sd ~12.6.
  EXPECT_GT(val_a.size, 150u);
  EXPECT_LT(val_a.size, 250u);
  // Membership follows the documented rule and both parts keep the original order.
  size_t t = 0, v = 0;
  for (size_t i = 0; i < s.train.size; ++i) {
    const bool to_val = UniformFromHash(HashKey(99, RngPurpose::kValidationSplit, i)) < 0.2;
    const Dataset& part = to_val ? val_a : train_a;
    size_t& k = to_val ? v : t;
    ASSERT_LT(k, part.size);
    EXPECT_EQ(part.values[k], s.train.values[i]);
    EXPECT_EQ(part.targets[k], s.train.targets[i]);
    ++k;
  }
  EXPECT_EQ(t, train_a.size);
  EXPECT_EQ(v, val_a.size);
  // Another seed picks another subset.
  Dataset train_c = s.train;
  EXPECT_NE(SplitValidation(&train_c, 0.2, 100).values, val_a.values);
}

TEST(SplitValidationTest, ClassificationAndZeroFraction) {
  Dataset train = MakeSynthetic("parity:6", 0).train;
  const Dataset original = train;
  const Dataset none = SplitValidation(&train, 0.0, 1);
  EXPECT_EQ(none.size, 0u);
  EXPECT_EQ(none.num_classes, 2);
  EXPECT_EQ(train.labels, original.labels);
  const Dataset val = SplitValidation(&train, 0.5, 1);
  EXPECT_EQ(val.labels.size(), val.size);
  EXPECT_EQ(val.values.size(), val.size * 6);
  EXPECT_EQ(val.input_dim, 6u);
  EXPECT_EQ(train.size + val.size, original.size);
}

TEST(SplitValidationTest, FractionOutOfRange) {
  for (double f : {-0.1, 1.0, 1.5, std::nan("")}) {
    Dataset train = MakeSynthetic("sin", 0).train;
    ExpectUsageError([&] { SplitValidation(&train, f, 0); }, {"validation fraction"});
  }
}

}  // namespace
}  // namespace dpmlp
