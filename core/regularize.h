// Per-sample regularisers of the inputs: the left-right flip and random erasing of images
// (drawn per epoch, like the shifts and rotations of core/batch.h) and input dropout (drawn per
// step, like hidden dropout). Every decision is a pure function of (seed, epoch or step, global
// sample index), so it does not depend on the rank count or on what was drawn before.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/batch.h"

namespace dpmlp {

// Whether global sample `index` is mirrored left-right in `epoch`: probability 1/2, from
// HashKey(seed, kAugment, epoch, index, 3). False unless aug.flip.
bool DrawFlip(const AugmentOptions& aug, int64_t epoch, size_t index);

// dst = src mirrored left-right (row y, column x takes column w-1-x); h x w, src != dst.
void FlipImage(const uint8_t* src, int h, int w, float* dst);

// The rectangle random erasing blanks: columns [x0, x0+w), rows [y0, y0+h); w == 0: none.
struct EraseBox {
  int x0 = 0, y0 = 0, w = 0, h = 0;
};

// Random erasing (Zhong et al. 2017) of sample `index` in `epoch` on an h x w image: with
// probability aug.erase_prob, a box of area fraction uniform in [0.02, aug.erase_max_area] and
// aspect ratio (height/width) log-uniform in [0.3, 3.3], clamped to the image, at a uniform
// position; from HashKey(seed, kAugment, epoch, index, 4..8).
EraseBox DrawEraseBox(const AugmentOptions& aug, int64_t epoch, size_t index, int h, int w);

// Sets the box's pixels of the h x w image to `value`.
void EraseImage(const EraseBox& box, int w, float value, float* image);

// Inverted input dropout on rows x dim inputs: feature j of the sample with global index
// ids[r] is zeroed at `step` with probability p, from SplitMix64(HashKey(seed, kInputDropout,
// step, ids[r]) + j); kept features are scaled by 1/(1-p). p <= 0 leaves x unchanged.
void ApplyInputDropout(double p, uint64_t seed, int64_t step, const size_t* ids, size_t rows,
                       size_t dim, float* x);

}  // namespace dpmlp
