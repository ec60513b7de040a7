#include "core/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "core/simd.h"

namespace dpmlp {

MomentumSgd::MomentumSgd(const ParamLayout& layout, const SgdOptions& options)
    : layout_(layout), options_(options), velocity_(layout.size(), 0.0f) {
  decays_ = layout.WeightMask();
  if (options_.decay_biases) std::fill(decays_.begin(), decays_.end(), 1);
}

double MomentumSgd::MeanGradNorm(const float* grad_sum, size_t n, double count) {
  // Eight independent double accumulators: the loop vectorises (a single serial chain cost 7% of
  // a step), and squares of finite floats cannot overflow a double, so the norm is non-finite
  // exactly when a gradient is.
  constexpr size_t kLanes = 8;
  double acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) {
      const double g = grad_sum[i + l];
      acc[l] += g * g;
    }
  double sq = 0.0;
  for (; i < n; ++i) sq += double(grad_sum[i]) * double(grad_sum[i]);
  for (double a : acc) sq += a;
  return count > 0 ? std::sqrt(sq) / count : 0.0;
}

namespace {
// The exponent field of a float plus one in its lowest bit: it carries into bit 31 exactly when
// the field is all ones (infinities and NaNs). OR-ed over the gradients, an integer reduction that
// vectorises inside the update loops with plain SSE2 (a float sum would not vectorise without
// reassociation, and an unsigned max needs SSE4.1).
inline uint32_t NonFiniteBit(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return (bits & 0x7f800000u) + 0x00800000u;
}
}  // namespace

void MomentumSgd::SetShard(size_t begin, size_t end) {
  if (begin > end || end > layout_.size())
    throw InternalError("optimizer shard [" + std::to_string(begin) + ", " + std::to_string(end) +
                        ") outside the " + std::to_string(layout_.size()) + " parameters");
  shard_begin_ = begin;
  std::vector<float>(end - begin, 0.0f).swap(velocity_);  // the whole one's memory goes
}

void MomentumSgd::SetVelocityFromWhole(const std::vector<float>& whole) {
  if (whole.size() != layout_.size())
    throw InternalError("velocity of " + std::to_string(whole.size()) + " values for " +
                        std::to_string(layout_.size()) + " parameters");
  std::copy(whole.begin() + shard_begin_, whole.begin() + shard_end(), velocity_.begin());
}

double MomentumSgd::GradScale(double count, double norm) const {
  double scale = 1.0 / count;
  if (options_.clip_norm > 0.0 && norm > options_.clip_norm) scale *= options_.clip_norm / norm;
  return scale;
}

double MomentumSgd::Step(float* params, const float* grad_sum, double count, double lr,
                         bool* finite) {
  const size_t n = velocity_.size();
  if (n != layout_.size()) throw InternalError("MomentumSgd::Step on a sharded optimizer");
  if (finite) *finite = true;
  if (count <= 0) return 0.0;
  const double norm = options_.clip_norm > 0.0 ? MeanGradNorm(grad_sum, n, count) : 0.0;
  const bool ok =
      UpdateSpan(params, grad_sum, shard_begin_, shard_end(), GradScale(count, norm), lr);
  if (finite) *finite = ok;
  ApplyMaxNorm(params);
  return norm;
}

DPMLP_SIMD_CLONES bool MomentumSgd::UpdateSpan(float* params, const float* grad_sum, size_t begin,
                                               size_t end, double g_scale_d, double lr) {
  const size_t n = end - begin;
  const float g_scale = static_cast<float>(g_scale_d);
  const float mu = static_cast<float>(options_.momentum);
  const float eta = static_cast<float>(lr);
  const float l2 = static_cast<float>(options_.weight_decay);
  const float l1 = static_cast<float>(options_.l1);
  float* __restrict v = velocity_.data() + (begin - shard_begin_);
  float* __restrict w = params + begin;
  const float* __restrict gs = grad_sum;
  const uint8_t* __restrict decays = decays_.data() + begin;
  // One loop per form, without per-element branches on options, so each vectorises.
  uint32_t non_finite = 0;
  if (l2 != 0.0f || l1 != 0.0f) {
    for (size_t i = 0; i < n; ++i) {
      non_finite |= NonFiniteBit(gs[i]);
      const float d = decays[i];
      const float sign = static_cast<float>((w[i] > 0.0f) - (w[i] < 0.0f));
      const float g = gs[i] * g_scale + d * (l2 * w[i] + l1 * sign);
      v[i] = mu * v[i] - eta * g;
      w[i] += options_.nesterov ? mu * v[i] - eta * g : v[i];
    }
  } else if (options_.nesterov) {
    for (size_t i = 0; i < n; ++i) {
      non_finite |= NonFiniteBit(gs[i]);
      const float g = gs[i] * g_scale;
      v[i] = mu * v[i] - eta * g;
      w[i] += mu * v[i] - eta * g;
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      non_finite |= NonFiniteBit(gs[i]);
      v[i] = mu * v[i] - eta * (gs[i] * g_scale);
      w[i] += v[i];
    }
  }
  return (non_finite & 0x80000000u) == 0;
}

void MomentumSgd::ApplyMaxNorm(float* params) const {
  if (options_.max_norm <= 0.0) return;
  // Max-norm: rescale each unit's incoming weights (one row of W) onto the ball.
  for (const LayerSlot& s : layout_.layers()) {
    for (int r = 0; r < s.pre; ++r) {
      float* row = params + s.weight_offset + static_cast<size_t>(r) * s.in;
      double sq = 0.0;
      for (int c = 0; c < s.in; ++c) sq += double(row[c]) * row[c];
      const double len = std::sqrt(sq);
      if (len > options_.max_norm) {
        const float f = static_cast<float>(options_.max_norm / len);
        for (int c = 0; c < s.in; ++c) row[c] *= f;
      }
    }
  }
}

LrSchedule::Kind LrSchedule::Parse(const std::string& s) {
  if (s == "constant") return Kind::kConstant;
  if (s == "step") return Kind::kStep;
  if (s == "cosine") return Kind::kCosine;
  throw UsageError("unknown value '" + s + "' for --lr-schedule (valid: constant|step|cosine)");
}

const char* LrSchedule::Name(Kind k) {
  switch (k) {
    case Kind::kConstant:
      return "constant";
    case Kind::kStep:
      return "step";
    case Kind::kCosine:
      return "cosine";
  }
  return "?";
}

double LrSchedule::At(int64_t step) const {
  const double spe = static_cast<double>(std::max<int64_t>(1, steps_per_epoch));
  const double warmup_steps = warmup_epochs * spe;
  double lr = base_lr;
  switch (kind) {
    case Kind::kConstant:
      break;
    case Kind::kStep: {
      const int64_t epoch = step / std::max<int64_t>(1, steps_per_epoch);
      lr = base_lr * std::pow(gamma, static_cast<double>(epoch / std::max(1, step_epochs)));
      break;
    }
    case Kind::kCosine: {
      const double span = std::max(1.0, double(total_steps) - warmup_steps);
      const double t = std::clamp((double(step) - warmup_steps) / span, 0.0, 1.0);
      lr = min_lr + (base_lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * t));
      break;
    }
  }
  if (warmup_steps > 0.0 && double(step) < warmup_steps) lr *= (double(step) + 1.0) / warmup_steps;
  return lr;
}

void UpdateRunningMean(const float* x, size_t n, int64_t count, float* mean) {
  if (count <= 1) {
    std::copy(x, x + n, mean);
    return;
  }
  const float c = static_cast<float>(count);
  for (size_t i = 0; i < n; ++i) mean[i] += (x[i] - mean[i]) / c;
}

}  // namespace dpmlp
