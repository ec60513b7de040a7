// Turning data set rows into float matrices for one step: normalisation and image augmentation.
// GatherInputs / GatherTargets run every step and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/dataset.h"

namespace dpmlp {

// Per-feature affine normalisation x' = (x - shift[j]) * scale[j]; both vectors hold input_dim
// entries.
struct InputTransform {
  std::vector<float> shift, scale;
};

// Fits the normalisation on the training set. kind:
//   "scale"        pixels: x / 255; float features: min-max per feature onto [0, 1]
//                  (a constant feature gets scale 1, i.e. maps to 0)
//   "standardize"  float features: per-feature mean and (population) standard deviation over
//                  train; pixels: one mean and deviation over all pixels (so that shifted or
//                  rotated images stay in range); std < 1e-6 gets scale 1
//   "none"         identity
// Throws UsageError naming --normalize for any other kind.
InputTransform FitInputTransform(const Dataset& train, const std::string& kind);

struct AugmentOptions {
  bool enabled = false;          // shifts and rotations
  float max_shift = 2.0f;        // pixels, in x and in y
  float max_rotate_deg = 10.0f;  // degrees, about the image centre
  bool flip = false;             // mirror left-right with probability 1/2 (core/regularize.h)
  double erase_prob = 0.0;       // random erasing: probability per image (core/regularize.h)
  double erase_max_area = 0.25;  // largest erased fraction of the image
  uint64_t seed = 0;
  // Whether any of the image transforms is on.
  bool any() const { return enabled || flip || erase_prob > 0; }
};

// One sample's augmentation: the image content moves by (dx, dy) pixels (+x right, +y down) after
// a rotation by angle_deg about the centre.
struct AugmentParams {
  float dx = 0, dy = 0, angle_deg = 0;
};

// Draws the augmentation of global sample `index` in `epoch`: each parameter uniform in
// [-max, max], from HashKey(seed, kAugment, epoch, index, unit) — never from the rank or from what
// was drawn before.
AugmentParams DrawAugmentParams(const AugmentOptions& aug, int64_t epoch, size_t index);

// Writes the h x w image src (uint8, row-major) transformed by p into dst (h x w floats, still
// on the 0..255 scale): bilinear interpolation, zero outside the source image.
void AugmentImage(const uint8_t* src, int h, int w, const AugmentParams& p, float* dst);

// Writes rows x input_dim floats (row-major) for samples idx[0..rows) of d: augmentation (when
// enabled and d holds images; ignored otherwise): shift and rotation, then the left-right flip,
// then normalisation with t, then random erasing (the erased box becomes 0, the mean input).
// Throws InternalError on an index out of range or a transform of the wrong size.
void GatherInputs(const Dataset& d, const size_t* idx, size_t rows, const InputTransform& t,
                  const AugmentOptions& aug, int64_t epoch, float* out);

// Writes labels_out (rows ints) for a classification set, or targets_out (rows x target_dim
// floats) for a regression set; the pointer the set does not use may be null.
// Throws InternalError on an index out of range or a null pointer the set needs.
void GatherTargets(const Dataset& d, const size_t* idx, size_t rows, int32_t* labels_out,
                   float* targets_out);

// The batched pass of evaluation, inspection, prediction and plotting: samples [begin, end) of
// d in runs of up to `chunk`, each gathered (normalised by t, never augmented) with its labels
// (a classification set) or targets (a regression set; null for inputs without targets, such
// as predict's rows), then handed to fn(first sample, rows, x, labels, targets).
class BatchReader {
 public:
  using Visit = std::function<void(size_t first, int rows, const float* x, const int32_t* labels,
                                   const float* targets)>;
  BatchReader(const Dataset& d, const InputTransform& t, int chunk);
  void ForEach(size_t begin, size_t end, const Visit& fn);
  int chunk() const { return chunk_; }

 private:
  const Dataset& d_;
  const InputTransform& t_;
  int chunk_;
  std::vector<float> x_, targets_;
  std::vector<int32_t> labels_;
  std::vector<size_t> idx_;
};

}  // namespace dpmlp
