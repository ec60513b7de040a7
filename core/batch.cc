// Batch assembly. Everything here after FitInputTransform runs once per step: no allocation.
#include "core/batch.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/regularize.h"
#include "core/rng.h"
#include "core/simd.h"

namespace dpmlp {
namespace {

constexpr double kMinStd = 1e-6;

// Calls f(row_pointer) for each sample's features as float-convertible values.
template <typename F>
void ForEachRow(const Dataset& d, F f) {
  for (size_t i = 0; i < d.size; ++i) {
    if (d.has_pixels()) {
      f(d.pixels.data() + i * d.input_dim);
    } else {
      f(d.values.data() + i * d.input_dim);
    }
  }
}

void FitMinMax(const Dataset& d, InputTransform* t) {
  if (d.has_pixels()) {
    std::fill(t->scale.begin(), t->scale.end(), 1.0f / 255.0f);
    return;
  }
  if (d.size == 0) return;
  const size_t dim = d.input_dim;
  std::vector<float> lo(dim, INFINITY), hi(dim, -INFINITY);
  ForEachRow(d, [&](const auto* row) {
    for (size_t j = 0; j < dim; ++j) {
      lo[j] = std::min<float>(lo[j], row[j]);
      hi[j] = std::max<float>(hi[j], row[j]);
    }
  });
  for (size_t j = 0; j < dim; ++j) {
    t->shift[j] = lo[j];
    t->scale[j] = hi[j] > lo[j] ? static_cast<float>(1.0 / (double{hi[j]} - lo[j])) : 1.0f;
  }
}

// Images: one mean and standard deviation over every pixel of every training image, the same for
// all positions. Per-pixel statistics would give the near-constant border pixels a scale in the
// hundreds, and an augmented (shifted or rotated) image that moves ink onto them would then
// reach the network as values in the tens of thousands.
void FitStandardizePixels(const Dataset& d, InputTransform* t) {
  const size_t count = d.size * d.input_dim;
  double sum = 0.0;
  for (size_t i = 0; i < count; ++i) sum += d.pixels[i];
  const double mean = sum / static_cast<double>(count);
  double sq = 0.0;
  for (size_t i = 0; i < count; ++i) {
    const double dev = d.pixels[i] - mean;
    sq += dev * dev;
  }
  const double std_dev = std::sqrt(sq / static_cast<double>(count));
  std::fill(t->shift.begin(), t->shift.end(), static_cast<float>(mean));
  std::fill(t->scale.begin(), t->scale.end(),
            std_dev < kMinStd ? 1.0f : static_cast<float>(1.0 / std_dev));
}

void FitStandardize(const Dataset& d, InputTransform* t) {
  const size_t dim = d.input_dim;
  if (d.size == 0) return;
  if (d.has_pixels()) {
    FitStandardizePixels(d, t);
    return;
  }
  // Two passes (mean, then squared deviations) to avoid cancellation on offset features.
  std::vector<double> mean(dim, 0.0), var(dim, 0.0);
  ForEachRow(d, [&](const auto* row) {
    for (size_t j = 0; j < dim; ++j) mean[j] += row[j];
  });
  for (double& m : mean) m /= static_cast<double>(d.size);
  ForEachRow(d, [&](const auto* row) {
    for (size_t j = 0; j < dim; ++j) {
      const double dev = row[j] - mean[j];
      var[j] += dev * dev;
    }
  });
  for (size_t j = 0; j < dim; ++j) {
    const double std_dev = std::sqrt(var[j] / static_cast<double>(d.size));
    t->shift[j] = static_cast<float>(mean[j]);
    t->scale[j] = std_dev < kMinStd ? 1.0f : static_cast<float>(1.0 / std_dev);
  }
}

// Pixel (x, y) of a h x w image, zero outside it.
inline float PixelOrZero(const uint8_t* src, int h, int w, int x, int y) {
  return (x >= 0 && x < w && y >= 0 && y < h) ? static_cast<float>(src[y * w + x]) : 0.0f;
}

// The loop every step runs: x' = (x - shift) * scale over one row.
template <typename T>
inline void NormalizeRow(const T* src, const float* shift, const float* scale, size_t n,
                         float* dst) {
  for (size_t j = 0; j < n; ++j) dst[j] = (static_cast<float>(src[j]) - shift[j]) * scale[j];
}

}  // namespace

InputTransform FitInputTransform(const Dataset& train, const std::string& kind) {
  InputTransform t;
  t.shift.assign(train.input_dim, 0.0f);
  t.scale.assign(train.input_dim, 1.0f);
  if (kind == "scale") {
    FitMinMax(train, &t);
  } else if (kind == "standardize") {
    FitStandardize(train, &t);
  } else if (kind != "none") {
    throw UsageError("normalisation '" + kind + "': unknown (valid: scale, standardize, none)");
  }
  return t;
}

AugmentParams DrawAugmentParams(const AugmentOptions& aug, int64_t epoch, size_t index) {
  const auto symmetric = [&](uint64_t unit, float max) {
    const float u = UniformFromHash(
        HashKey(aug.seed, RngPurpose::kAugment, static_cast<uint64_t>(epoch), index, unit));
    return max * (2.0f * u - 1.0f);
  };
  AugmentParams p;
  p.dx = symmetric(0, aug.max_shift);
  p.dy = symmetric(1, aug.max_shift);
  p.angle_deg = symmetric(2, aug.max_rotate_deg);
  return p;
}

void AugmentImage(const uint8_t* src, int h, int w, const AugmentParams& p, float* dst) {
  // Each output pixel q samples the source at the inverse map R(-angle) (q - c - d) + c, with c
  // the image centre and d the shift. With y pointing down, a positive angle turns the content
  // clockwise as displayed.
  const double rad = p.angle_deg * 3.14159265358979323846 / 180.0;
  const float cos_a = static_cast<float>(std::cos(rad));
  const float sin_a = static_cast<float>(std::sin(rad));
  const float cx = 0.5f * static_cast<float>(w - 1);
  const float cy = 0.5f * static_cast<float>(h - 1);
  for (int oy = 0; oy < h; ++oy) {
    const float v = static_cast<float>(oy) - cy - p.dy;
    for (int ox = 0; ox < w; ++ox) {
      const float u = static_cast<float>(ox) - cx - p.dx;
      const float sx = cos_a * u + sin_a * v + cx;
      const float sy = -sin_a * u + cos_a * v + cy;
      // More than one pixel outside the image (or NaN): every neighbour is zero. Tested in float
      // first so the int casts below stay defined.
      if (!(sx >= -1.0f && sx < static_cast<float>(w) && sy >= -1.0f &&
            sy < static_cast<float>(h))) {
        dst[oy * w + ox] = 0.0f;
        continue;
      }
      // floor() by truncating a non-negative value: std::floor is a libm call without SSE4.1.
      const int x0 = static_cast<int>(sx + 1.0f) - 1, y0 = static_cast<int>(sy + 1.0f) - 1;
      const float ax = sx - static_cast<float>(x0), ay = sy - static_cast<float>(y0);
      float value;
      if (x0 >= 0 && x0 + 1 < w && y0 >= 0 && y0 + 1 < h) {
        // Interior: all four neighbours exist (the common case for small transforms).
        const uint8_t* p00 = src + y0 * w + x0;
        const float top = (1.0f - ax) * p00[0] + ax * p00[1];
        const float bottom = (1.0f - ax) * p00[w] + ax * p00[w + 1];
        value = (1.0f - ay) * top + ay * bottom;
      } else {
        // Border: missing neighbours count as zero.
        const float top =
            (1.0f - ax) * PixelOrZero(src, h, w, x0, y0) + ax * PixelOrZero(src, h, w, x0 + 1, y0);
        const float bottom = (1.0f - ax) * PixelOrZero(src, h, w, x0, y0 + 1) +
                             ax * PixelOrZero(src, h, w, x0 + 1, y0 + 1);
        value = (1.0f - ay) * top + ay * bottom;
      }
      dst[oy * w + ox] = value;
    }
  }
}

DPMLP_SIMD_CLONES void GatherInputs(const Dataset& d, const size_t* idx, size_t rows,
                                    const InputTransform& t, const AugmentOptions& aug,
                                    int64_t epoch, float* out) {
  const size_t dim = d.input_dim;
  if (t.shift.size() != dim || t.scale.size() != dim) {
    throw InternalError("GatherInputs: transform has " + std::to_string(t.shift.size()) +
                        " features, " + d.source + " has " + std::to_string(dim));
  }
  const bool image = d.has_pixels() && d.image_height > 0 &&
                     static_cast<size_t>(d.image_height) * d.image_width == dim;
  const bool augment = aug.enabled && image;
  const bool flip = aug.flip && image, erase = aug.erase_prob > 0 && image;
  const int h = d.image_height, w = d.image_width;
  const float* shift = t.shift.data();
  const float* scale = t.scale.data();
  for (size_t r = 0; r < rows; ++r) {
    const size_t i = idx[r];
    if (i >= d.size) {
      throw InternalError("GatherInputs: sample " + std::to_string(i) + " out of range for " +
                          d.source + " (" + std::to_string(d.size) + " samples)");
    }
    float* dst = out + r * dim;
    // The rows are random samples of a large array: ask for the next one while this one is
    // converted, so its cache misses overlap with work.
    if (r + 1 < rows && idx[r + 1] < d.size && d.has_pixels()) {
      const uint8_t* next = d.pixels.data() + idx[r + 1] * dim;
      for (size_t k = 0; k < dim; k += 64) __builtin_prefetch(next + k);
    }
    const bool mirrored = flip && DrawFlip(aug, epoch, i);
    if (augment) {
      AugmentImage(d.pixels.data() + i * dim, d.image_height, d.image_width,
                   DrawAugmentParams(aug, epoch, i), dst);
      if (mirrored)
        for (int y = 0; y < h; ++y) std::reverse(dst + y * w, dst + (y + 1) * w);
      NormalizeRow(dst, shift, scale, dim, dst);
    } else if (mirrored) {
      FlipImage(d.pixels.data() + i * dim, h, w, dst);
      NormalizeRow(dst, shift, scale, dim, dst);
    } else if (d.has_pixels()) {
      NormalizeRow(d.pixels.data() + i * dim, shift, scale, dim, dst);
    } else {
      NormalizeRow(d.values.data() + i * dim, shift, scale, dim, dst);
    }
    if (erase) EraseImage(DrawEraseBox(aug, epoch, i, h, w), w, 0.0f, dst);
  }
}

void GatherTargets(const Dataset& d, const size_t* idx, size_t rows, int32_t* labels_out,
                   float* targets_out) {
  const bool classification = d.is_classification();
  if (rows > 0 && (classification ? labels_out == nullptr : targets_out == nullptr)) {
    throw InternalError("GatherTargets: no output buffer for the " +
                        std::string(classification ? "labels" : "targets") + " of " + d.source);
  }
  const size_t td = d.target_dim;
  for (size_t r = 0; r < rows; ++r) {
    const size_t i = idx[r];
    if (i >= d.size) {
      throw InternalError("GatherTargets: sample " + std::to_string(i) + " out of range for " +
                          d.source + " (" + std::to_string(d.size) + " samples)");
    }
    if (classification) {
      labels_out[r] = d.labels[i];
    } else {
      std::copy(d.targets.begin() + i * td, d.targets.begin() + (i + 1) * td, targets_out + r * td);
    }
  }
}

BatchReader::BatchReader(const Dataset& d, const InputTransform& t, int chunk)
    : d_(d), t_(t), chunk_(std::max(1, chunk)) {
  x_.resize(static_cast<size_t>(chunk_) * d.input_dim);
  if (d.is_classification())
    labels_.resize(chunk_);
  else if (!d.targets.empty())
    targets_.resize(static_cast<size_t>(chunk_) * d.target_dim);
  idx_.resize(chunk_);
}

void BatchReader::ForEach(size_t begin, size_t end, const Visit& fn) {
  const AugmentOptions no_augment;
  for (size_t at = begin; at < end; at += static_cast<size_t>(chunk_)) {
    const int rows = static_cast<int>(std::min<size_t>(chunk_, end - at));
    for (int r = 0; r < rows; ++r) idx_[r] = at + static_cast<size_t>(r);
    GatherInputs(d_, idx_.data(), static_cast<size_t>(rows), t_, no_augment, 0, x_.data());
    int32_t* labels = labels_.empty() ? nullptr : labels_.data();
    float* targets = targets_.empty() ? nullptr : targets_.data();
    if (labels || targets)
      GatherTargets(d_, idx_.data(), static_cast<size_t>(rows), labels, targets);
    fn(at, rows, x_.data(), labels, targets);
  }
}

}  // namespace dpmlp
