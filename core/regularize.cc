#include "core/regularize.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace dpmlp {
namespace {

// Unit numbers of the augmentation stream (0-2 are the shift and rotation of core/batch.cc).
enum AugmentUnit : uint64_t { kFlipUnit = 3, kEraseOn, kEraseArea, kEraseRatio, kEraseY, kEraseX };

float Draw(const AugmentOptions& aug, int64_t epoch, size_t index, AugmentUnit unit) {
  return UniformFromHash(
      HashKey(aug.seed, RngPurpose::kAugment, static_cast<uint64_t>(epoch), index, unit));
}

}  // namespace

bool DrawFlip(const AugmentOptions& aug, int64_t epoch, size_t index) {
  return aug.flip && Draw(aug, epoch, index, kFlipUnit) < 0.5f;
}

void FlipImage(const uint8_t* src, int h, int w, float* dst) {
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = src + static_cast<size_t>(y) * w;
    float* out = dst + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) out[x] = static_cast<float>(row[w - 1 - x]);
  }
}

EraseBox DrawEraseBox(const AugmentOptions& aug, int64_t epoch, size_t index, int h, int w) {
  EraseBox box;
  if (aug.erase_prob <= 0 || h <= 0 || w <= 0) return box;
  if (!(Draw(aug, epoch, index, kEraseOn) < aug.erase_prob)) return box;
  constexpr double kMinArea = 0.02, kMinRatio = 0.3, kMaxRatio = 3.3;
  const double max_area = std::max(kMinArea, aug.erase_max_area);
  const double area =
      (kMinArea + (max_area - kMinArea) * Draw(aug, epoch, index, kEraseArea)) * h * w;
  const double ratio = std::exp(std::log(kMinRatio) + (std::log(kMaxRatio) - std::log(kMinRatio)) *
                                                          Draw(aug, epoch, index, kEraseRatio));
  box.h = std::clamp(static_cast<int>(std::lround(std::sqrt(area * ratio))), 1, h);
  box.w = std::clamp(static_cast<int>(std::lround(std::sqrt(area / ratio))), 1, w);
  // Uniform in [0, h - box.h]: the draw is < 1, so the product stays below h - box.h + 1.
  box.y0 = static_cast<int>(Draw(aug, epoch, index, kEraseY) * static_cast<float>(h - box.h + 1));
  box.x0 = static_cast<int>(Draw(aug, epoch, index, kEraseX) * static_cast<float>(w - box.w + 1));
  box.y0 = std::min(box.y0, h - box.h);
  box.x0 = std::min(box.x0, w - box.w);
  return box;
}

void EraseImage(const EraseBox& box, int w, float value, float* image) {
  for (int y = box.y0; y < box.y0 + box.h; ++y)
    std::fill(image + static_cast<size_t>(y) * w + box.x0,
              image + static_cast<size_t>(y) * w + box.x0 + box.w, value);
}

void ApplyInputDropout(double p, uint64_t seed, int64_t step, const size_t* ids, size_t rows,
                       size_t dim, float* x) {
  if (!(p > 0)) return;
  const float keep_scale = static_cast<float>(1.0 / (1.0 - p));
  const float drop = static_cast<float>(p);
  for (size_t r = 0; r < rows; ++r) {
    const uint64_t base =
        HashKey(seed, RngPurpose::kInputDropout, static_cast<uint64_t>(step), ids[r]);
    float* row = x + r * dim;
    for (size_t j = 0; j < dim; ++j)
      row[j] = UniformFromHash(SplitMix64(base + j)) < drop ? 0.0f : row[j] * keep_scale;
  }
}

}  // namespace dpmlp
