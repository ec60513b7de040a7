// The arithmetic of the input regularisers (flip, random erasing, input dropout) and of label
// smoothing: hand-computed values, the documented probabilities, and a gradient check.
#include "core/regularize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/network.h"
#include "core/rng.h"

namespace dpmlp {
namespace {

// n images of h x w whose pixels all differ within an image.
Dataset Images(size_t n, int h, int w) {
  Dataset d;
  d.source = "images";
  d.size = n;
  d.image_height = h;
  d.image_width = w;
  d.input_dim = static_cast<size_t>(h * w);
  d.num_classes = 10;
  for (size_t i = 0; i < n * d.input_dim; ++i)
    d.pixels.push_back(static_cast<uint8_t>(1 + (i * 7) % 250));
  d.labels.assign(n, 0);
  return d;
}

std::vector<float> Gather(const Dataset& d, const AugmentOptions& aug, int64_t epoch,
                          std::vector<size_t> idx) {
  std::vector<float> out(idx.size() * d.input_dim);
  GatherInputs(d, idx.data(), idx.size(), FitInputTransform(d, "none"), aug, epoch, out.data());
  return out;
}

TEST(FlipTest, MirrorsEachRow) {
  const uint8_t src[] = {1, 2, 3, 4, 5, 6};  // 2 rows of 3
  float dst[6];
  FlipImage(src, 2, 3, dst);
  EXPECT_EQ(std::vector<float>(dst, dst + 6), (std::vector<float>{3, 2, 1, 6, 5, 4}));
}

TEST(FlipTest, HalfTheImagesAreMirroredAndGatherAppliesIt) {
  const int h = 4, w = 5;
  const size_t n = 400;
  const Dataset d = Images(n, h, w);
  AugmentOptions aug;
  aug.flip = true;
  aug.seed = 3;
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  const std::vector<float> out = Gather(d, aug, 2, idx);
  int flipped = 0, changed_between_epochs = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool f = DrawFlip(aug, 2, i);
    flipped += f;
    changed_between_epochs += f != DrawFlip(aug, 3, i);
    std::vector<float> want(h * w);
    if (f) {
      FlipImage(d.pixels.data() + i * d.input_dim, h, w, want.data());
    } else {
      std::copy(d.pixels.begin() + i * d.input_dim, d.pixels.begin() + (i + 1) * d.input_dim,
                want.begin());
    }
    ASSERT_TRUE(std::equal(want.begin(), want.end(), out.begin() + i * d.input_dim)) << i;
  }
  // Binomial(400, 1/2): 200 +- 10 (one standard deviation); +-50 is five.
  EXPECT_NEAR(flipped, 200, 50);
  EXPECT_NEAR(changed_between_epochs, 200, 50);  // an independent draw per epoch
  aug.flip = false;
  EXPECT_FALSE(DrawFlip(aug, 2, 0) || DrawFlip(aug, 2, 1) || DrawFlip(aug, 2, 2));
}

TEST(FlipTest, ComposesWithShiftsAndRotations) {
  const Dataset d = Images(8, 6, 6);
  AugmentOptions aug;
  aug.enabled = true;
  aug.seed = 9;
  const std::vector<float> plain = Gather(d, aug, 1, {0, 1, 2, 3, 4, 5, 6, 7});
  aug.flip = true;
  const std::vector<float> both = Gather(d, aug, 1, {0, 1, 2, 3, 4, 5, 6, 7});
  for (size_t i = 0; i < 8; ++i) {
    std::vector<float> want(plain.begin() + i * 36, plain.begin() + (i + 1) * 36);
    if (DrawFlip(aug, 1, i))
      for (int y = 0; y < 6; ++y) std::reverse(want.begin() + y * 6, want.begin() + (y + 1) * 6);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), both.begin() + i * 36)) << i;
  }
}

TEST(EraseTest, BoxesStayInsideWithTheDocumentedAreaAndProbability) {
  const int h = 28, w = 28;
  AugmentOptions aug;
  aug.erase_prob = 0.5;
  aug.erase_max_area = 0.3;
  aug.seed = 4;
  int erased = 0;
  double area_sum = 0;
  for (size_t i = 0; i < 2000; ++i) {
    const EraseBox b = DrawEraseBox(aug, 7, i, h, w);
    if (b.w == 0) continue;
    ++erased;
    ASSERT_GE(b.x0, 0);
    ASSERT_GE(b.y0, 0);
    ASSERT_LE(b.x0 + b.w, w);
    ASSERT_LE(b.y0 + b.h, h);
    const double frac = double(b.w) * b.h / (h * w);
    // Rounding each side to whole pixels moves the area by at most about one row and column.
    EXPECT_GE(frac, 0.02 - 2.0 * 28 / 784.0) << i;
    EXPECT_LE(frac, 0.3 + 2.5 * 28 / 784.0) << i;
    area_sum += frac;
  }
  EXPECT_NEAR(erased, 1000, 100);              // Binomial(2000, 1/2): sd 22
  EXPECT_NEAR(area_sum / erased, 0.16, 0.02);  // mean of U[0.02, 0.3]
  aug.erase_prob = 0;
  EXPECT_EQ(DrawEraseBox(aug, 7, 0, h, w).w, 0);
}

TEST(EraseTest, GatherZeroesExactlyTheBoxAfterNormalisation) {
  const Dataset d = Images(50, 10, 12);
  AugmentOptions aug;
  aug.erase_prob = 0.7;
  aug.seed = 11;
  std::vector<size_t> idx(50);
  for (size_t i = 0; i < 50; ++i) idx[i] = i;
  const InputTransform t = FitInputTransform(d, "standardize");
  std::vector<float> out(50 * d.input_dim), plain(50 * d.input_dim);
  GatherInputs(d, idx.data(), 50, t, aug, 3, out.data());
  GatherInputs(d, idx.data(), 50, t, AugmentOptions{}, 3, plain.data());
  int boxes = 0;
  for (size_t i = 0; i < 50; ++i) {
    const EraseBox b = DrawEraseBox(aug, 3, i, 10, 12);
    boxes += b.w > 0;
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 12; ++x) {
        const size_t k = i * d.input_dim + y * 12 + x;
        const bool inside = b.w > 0 && x >= b.x0 && x < b.x0 + b.w && y >= b.y0 && y < b.y0 + b.h;
        ASSERT_EQ(out[k], inside ? 0.0f : plain[k]) << i << " " << x << "," << y;
      }
  }
  EXPECT_GT(boxes, 20);
  EXPECT_LT(boxes, 50);
}

TEST(InputDropoutTest, DropsAtRateAndScalesTheRest) {
  const size_t rows = 3, dim = 1000;
  std::vector<float> x(rows * dim, 2.0f);
  const size_t ids[] = {5, 900, 17};
  ApplyInputDropout(0.2, 8, 40, ids, rows, dim, x.data());
  size_t dropped = 0;
  for (float v : x) {
    ASSERT_TRUE(v == 0.0f || v == 2.5f) << v;  // 2 / (1 - 0.2)
    dropped += v == 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(dropped), 600, 70);  // Binomial(3000, 0.2): sd 22
  // The mask of a sample depends on its global index and the step, not on its row.
  std::vector<float> one(dim, 2.0f);
  ApplyInputDropout(0.2, 8, 40, ids + 1, 1, dim, one.data());
  EXPECT_TRUE(std::equal(one.begin(), one.end(), x.begin() + dim));
  std::vector<float> next(dim, 2.0f);
  ApplyInputDropout(0.2, 8, 41, ids + 1, 1, dim, next.data());
  EXPECT_NE(next, one);
  std::vector<float> off(dim, 2.0f);
  ApplyInputDropout(0.0, 8, 40, ids, 1, dim, off.data());
  EXPECT_EQ(off, std::vector<float>(dim, 2.0f));
}

// A 3-class softmax layer with no hidden layer, zero weights and biases (1, 2, 3): z = b.
Network<double> BiasOnlyNet() {
  ModelSpec spec;
  spec.input_dim = 2;
  spec.output_dim = 3;
  Network<double> net(spec, 1);
  std::fill(net.params().begin(), net.params().end(), 0.0);
  const LayerSlot& s = net.layout().layers()[0];
  for (int j = 0; j < 3; ++j) net.params()[s.bias_offset + j] = j + 1.0;
  return net;
}

TEST(LabelSmoothingTest, LossAndGradientByHand) {
  Network<double> net = BiasOnlyNet();
  const double x[] = {0.5, -1.0};
  const int32_t label = 0;
  net.Forward(x, 1);
  const double e = 0.1;
  const BatchStats st = net.Loss(1, &label, nullptr, true, e);
  const double zsum = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const double p[] = {std::exp(1.0) / zsum, std::exp(2.0) / zsum, std::exp(3.0) / zsum};
  const double t[] = {0.9 + e / 3, e / 3, e / 3};
  double want = 0;
  for (int j = 0; j < 3; ++j) want -= t[j] * std::log(p[j]);
  EXPECT_NEAR(st.loss_sum, want, 1e-12);
  EXPECT_EQ(st.correct, 0.0);  // class 2 has the largest output
  // The bias gradient is dC/dz = p - t.
  std::vector<double> grads(net.layout().size());
  net.Backward(x, 1, grads.data());
  const LayerSlot& s = net.layout().layers()[0];
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(grads[s.bias_offset + j], p[j] - t[j], 1e-12);
  // Without smoothing: the plain cross-entropy -log p_0.
  net.Forward(x, 1);
  EXPECT_NEAR(net.Loss(1, &label, nullptr, false).loss_sum, -std::log(p[0]), 1e-12);
}

TEST(LabelSmoothingTest, GradientMatchesCentralDifferences) {
  ModelSpec spec;
  spec.input_dim = 4;
  spec.hidden = {5, 3};
  spec.output_dim = 4;
  spec.activation = ActKind::kTanh;
  spec.init = InitKind::kNormalScaled;
  const int rows = 5;
  Network<double> net(spec, rows);
  InitializeParams(spec, 3, net.params().data());
  std::vector<double> x(rows * spec.input_dim);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = NormalFromHash(HashKey(2, RngPurpose::kSynthetic, i));
  const std::vector<int32_t> labels = {0, 3, 1, 2, 3};
  const double e = 0.2;
  auto loss = [&] {
    net.Forward(x.data(), rows);
    return net.Loss(rows, labels.data(), nullptr, false, e).loss_sum;
  };
  net.Forward(x.data(), rows);
  net.Loss(rows, labels.data(), nullptr, true, e);
  std::vector<double> analytic(net.layout().size());
  net.Backward(x.data(), rows, analytic.data());
  const double h = 1e-6;
  for (size_t i = 0; i < net.params().size(); ++i) {
    const double saved = net.params()[i];
    net.params()[i] = saved + h;
    const double up = loss();
    net.params()[i] = saved - h;
    const double down = loss();
    net.params()[i] = saved;
    const double numeric = (up - down) / (2 * h);
    ASSERT_NEAR(numeric, analytic[i], 1e-6 * std::max(1.0, std::fabs(numeric))) << i;
  }
  // Smoothing changes the loss (else the check would say nothing about it).
  net.Forward(x.data(), rows);
  EXPECT_GT(std::fabs(net.Loss(rows, labels.data(), nullptr, false, 0.0).loss_sum - loss()), 1e-3);
}

}  // namespace
}  // namespace dpmlp
