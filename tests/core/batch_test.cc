#include "core/batch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "core/dataset.h"
#include "tests/core/data_test_util.h"

namespace dpmlp {
namespace {

using testing_util::ExpectUsageError;

// n images of h x w with pixel values that differ everywhere (so shifts are visible).
Dataset Images(size_t n, int h, int w) {
  Dataset d;
  d.source = "images";
  d.size = n;
  d.image_height = h;
  d.image_width = w;
  d.input_dim = static_cast<size_t>(h * w);
  d.num_classes = 10;
  for (size_t i = 0; i < n * d.input_dim; ++i)
    d.pixels.push_back(static_cast<uint8_t>(1 + i % 250));
  for (size_t i = 0; i < n; ++i) d.labels.push_back(static_cast<int32_t>(i % 10));
  return d;
}

// Three samples of two float features, regression with two targets.
Dataset Table() {
  Dataset d;
  d.source = "table";
  d.size = 3;
  d.input_dim = 2;
  d.values = {1.0f, 5.0f, 3.0f, 5.0f, 2.0f, 5.0f};  // feature 1 is constant
  d.target_dim = 2;
  d.targets = {10, 11, 20, 21, 30, 31};
  return d;
}

TEST(InputTransformTest, ScalePixelsAndMinMaxFeatures) {
  const InputTransform px = FitInputTransform(Images(2, 2, 2), "scale");
  ASSERT_EQ(px.scale.size(), 4u);
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(px.shift[j], 0.0f);
    EXPECT_FLOAT_EQ(px.scale[j], 1.0f / 255.0f);
  }
  const InputTransform t = FitInputTransform(Table(), "scale");
  EXPECT_FLOAT_EQ(t.shift[0], 1.0f);  // min of {1, 3, 2}
  EXPECT_FLOAT_EQ(t.scale[0], 0.5f);  // 1 / (3 - 1)
  EXPECT_FLOAT_EQ(t.shift[1], 5.0f);
  EXPECT_FLOAT_EQ(t.scale[1], 1.0f);  // constant feature
}

TEST(InputTransformTest, StandardizeAndNone) {
  const InputTransform t = FitInputTransform(Table(), "standardize");
  const double mean = (1.0 + 3.0 + 2.0) / 3;
  const double var =
      ((1 - mean) * (1 - mean) + (3 - mean) * (3 - mean) + (2 - mean) * (2 - mean)) / 3;
  EXPECT_FLOAT_EQ(t.shift[0], static_cast<float>(mean));
  EXPECT_FLOAT_EQ(t.scale[0], static_cast<float>(1 / std::sqrt(var)));
  EXPECT_FLOAT_EQ(t.shift[1], 5.0f);
  EXPECT_FLOAT_EQ(t.scale[1], 1.0f);  // std 0 < 1e-6
  const InputTransform n = FitInputTransform(Table(), "none");
  EXPECT_EQ(n.shift, std::vector<float>(2, 0.0f));
  EXPECT_EQ(n.scale, std::vector<float>(2, 1.0f));
  ExpectUsageError([] { FitInputTransform(Table(), "zscore"); }, {"normalisation", "zscore"});
}

// Images are standardized with one mean and deviation over all pixels: a border that is always
// blank must not get a huge scale, or an augmented image moving ink onto it would blow up.
TEST(InputTransformTest, StandardizePixelsUsesOneMeanAndDeviation) {
  Dataset d = Images(3, 3, 3);
  for (size_t i = 0; i < d.size; ++i) d.pixels[i * 9] = 0;  // pixel 0 is blank in every image
  double sum = 0, sq = 0;
  for (uint8_t p : d.pixels) sum += p;
  const double mean = sum / static_cast<double>(d.pixels.size());
  for (uint8_t p : d.pixels) sq += (p - mean) * (p - mean);
  const double std_dev = std::sqrt(sq / static_cast<double>(d.pixels.size()));
  const InputTransform t = FitInputTransform(d, "standardize");
  ASSERT_EQ(t.shift.size(), 9u);
  for (size_t j = 0; j < 9; ++j) {
    EXPECT_FLOAT_EQ(t.shift[j], static_cast<float>(mean)) << "pixel " << j;
    EXPECT_FLOAT_EQ(t.scale[j], static_cast<float>(1 / std_dev)) << "pixel " << j;
  }
}

TEST(GatherTest, InputsEqualHandNormalisation) {
  const Dataset d = Images(5, 3, 4);
  InputTransform t;
  for (size_t j = 0; j < d.input_dim; ++j) {
    t.shift.push_back(0.5f * j);
    t.scale.push_back(1.0f / (1 + j));
  }
  const size_t idx[] = {4, 0, 2, 4};
  std::vector<float> out(4 * d.input_dim, -1.0f);
  GatherInputs(d, idx, 4, t, AugmentOptions{}, 0, out.data());
  for (size_t r = 0; r < 4; ++r) {
    for (size_t j = 0; j < d.input_dim; ++j) {
      const float x = d.pixels[idx[r] * d.input_dim + j];
      EXPECT_FLOAT_EQ(out[r * d.input_dim + j], (x - 0.5f * j) / (1 + j)) << r << "," << j;
    }
  }
  // Float features take the same path.
  const Dataset tab = Table();
  const InputTransform ts = FitInputTransform(tab, "scale");
  const size_t tidx[] = {1, 2};
  float tout[4];
  GatherInputs(tab, tidx, 2, ts, AugmentOptions{}, 0, tout);
  EXPECT_FLOAT_EQ(tout[0], 1.0f);  // (3 - 1) * 0.5
  EXPECT_FLOAT_EQ(tout[1], 0.0f);
  EXPECT_FLOAT_EQ(tout[2], 0.5f);  // (2 - 1) * 0.5
  EXPECT_FLOAT_EQ(tout[3], 0.0f);
}

TEST(GatherTest, Targets) {
  const Dataset img = Images(12, 2, 2);
  const size_t idx[] = {11, 3};
  int32_t labels[2];
  GatherTargets(img, idx, 2, labels, nullptr);
  EXPECT_EQ(labels[0], img.labels[11]);
  EXPECT_EQ(labels[1], img.labels[3]);
  const Dataset tab = Table();
  float targets[4];
  const size_t tidx[] = {2, 0};
  GatherTargets(tab, tidx, 2, nullptr, targets);
  EXPECT_EQ(std::vector<float>(targets, targets + 4), (std::vector<float>{30, 31, 10, 11}));
  // The buffer the set needs must be there.
  try {
    GatherTargets(tab, tidx, 2, labels, nullptr);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitInternal);
  }
}

TEST(GatherTest, OutOfRangeIndexIsInternalError) {
  const Dataset d = Images(2, 2, 2);
  const size_t idx[] = {2};
  float out[4];
  try {
    GatherInputs(d, idx, 1, FitInputTransform(d, "none"), AugmentOptions{}, 0, out);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitInternal);
  }
}

// Augmented gather with the identity transform, so outputs stay on the 0..255 scale.
std::vector<float> GatherAugmented(const Dataset& d, const AugmentOptions& aug, int64_t epoch,
                                   std::vector<size_t> idx) {
  std::vector<float> out(idx.size() * d.input_dim);
  GatherInputs(d, idx.data(), idx.size(), FitInputTransform(d, "none"), aug, epoch, out.data());
  return out;
}

TEST(AugmentTest, ZeroShiftAndRotationIsIdentity) {
  const Dataset d = Images(3, 28, 28);
  AugmentOptions aug;
  aug.enabled = true;
  aug.max_shift = 0;
  aug.max_rotate_deg = 0;
  aug.seed = 5;
  const std::vector<float> out = GatherAugmented(d, aug, 3, {2, 0});
  ASSERT_EQ(out.size(), 2 * d.input_dim);
  for (size_t j = 0; j < d.input_dim; ++j) {
    EXPECT_EQ(out[j], d.pixels[2 * d.input_dim + j]);
    EXPECT_EQ(out[d.input_dim + j], d.pixels[j]);
  }
}

TEST(AugmentTest, DeterministicPerSampleAndEpoch) {
  const Dataset d = Images(4, 28, 28);
  AugmentOptions aug;
  aug.enabled = true;
  aug.seed = 17;
  const std::vector<float> a = GatherAugmented(d, aug, 1, {0, 1, 2, 3});
  // Same (seed, epoch, index) in another batch position and batch: same image.
  const std::vector<float> b = GatherAugmented(d, aug, 1, {3, 2});
  EXPECT_TRUE(std::equal(b.begin(), b.begin() + d.input_dim, a.begin() + 3 * d.input_dim));
  EXPECT_TRUE(std::equal(b.begin() + d.input_dim, b.end(), a.begin() + 2 * d.input_dim,
                         a.begin() + 3 * d.input_dim));
  // Another epoch or seed: another transform.
  const std::vector<float> c = GatherAugmented(d, aug, 2, {0, 1, 2, 3});
  EXPECT_NE(a, c);
  aug.seed = 18;
  EXPECT_NE(a, GatherAugmented(d, aug, 1, {0, 1, 2, 3}));
  // And it is not the identity.
  const std::vector<float> original(d.pixels.begin(), d.pixels.end());
  EXPECT_NE(a, original);
  // Pixels stay within the source range (bilinear weights are a convex combination).
  for (float v : a) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 255.0f);
  }
}

TEST(AugmentTest, DrawnParametersStayWithinBounds) {
  AugmentOptions aug;
  aug.max_shift = 1.5f;
  aug.max_rotate_deg = 7.0f;
  bool negative_seen = false, positive_seen = false;
  for (size_t i = 0; i < 200; ++i) {
    const AugmentParams p = DrawAugmentParams(aug, 4, i);
    EXPECT_LE(std::fabs(p.dx), 1.5f);
    EXPECT_LE(std::fabs(p.dy), 1.5f);
    EXPECT_LE(std::fabs(p.angle_deg), 7.0f);
    negative_seen |= p.angle_deg < -3.5f;
    positive_seen |= p.angle_deg > 3.5f;
  }
  EXPECT_TRUE(negative_seen && positive_seen);
}

TEST(AugmentTest, IntegerShiftMovesPixelsByOne) {
  const int h = 5, w = 6;
  const Dataset d = Images(1, h, w);
  const uint8_t* src = d.pixels.data();
  std::vector<float> out(h * w);
  AugmentImage(src, h, w, AugmentParams{1.0f, 0.0f, 0.0f}, out.data());
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float expected = x == 0 ? 0.0f : src[y * w + x - 1];
      EXPECT_EQ(out[y * w + x], expected) << x << "," << y;
    }
  }
  AugmentImage(src, h, w, AugmentParams{0.0f, -1.0f, 0.0f}, out.data());
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float expected = y == h - 1 ? 0.0f : src[(y + 1) * w + x];
      EXPECT_EQ(out[y * w + x], expected) << x << "," << y;
    }
  }
}

TEST(AugmentTest, HalfPixelShiftAveragesNeighbours) {
  const int h = 1, w = 3;
  const uint8_t src[] = {10, 20, 40};
  float out[3];
  AugmentImage(src, h, w, AugmentParams{0.5f, 0.0f, 0.0f}, out);
  EXPECT_FLOAT_EQ(out[0], 5.0f);  // half of 10, half of the zero outside
  EXPECT_FLOAT_EQ(out[1], 15.0f);
  EXPECT_FLOAT_EQ(out[2], 30.0f);
}

TEST(AugmentTest, QuarterTurnRotatesAboutCentre) {
  // 3x3 with a single bright pixel right of the centre; +90 degrees (clockwise as displayed, y
  // down) moves it below the centre.
  uint8_t src[9] = {0};
  src[1 * 3 + 2] = 200;
  float out[9];
  AugmentImage(src, 3, 3, AugmentParams{0.0f, 0.0f, 90.0f}, out);
  for (int k = 0; k < 9; ++k) {
    EXPECT_NEAR(out[k], k == 2 * 3 + 1 ? 200.0f : 0.0f, 1e-3) << k;
  }
}

TEST(AugmentTest, NonImageSetsAreNotAugmented) {
  const Dataset tab = Table();
  AugmentOptions aug;
  aug.enabled = true;
  const size_t idx[] = {0};
  float out[2];
  GatherInputs(tab, idx, 1, FitInputTransform(tab, "none"), aug, 0, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 5.0f);
}

}  // namespace
}  // namespace dpmlp
