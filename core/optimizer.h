// Momentum SGD over the flat parameter buffer, in the classical (Polyak) form:
//   v <- mu v - eta (g + lambda2 w + lambda1 sign(w)),   w <- w + v
// (Nesterov: w <- w + mu v - eta g'). g is the mean gradient over the global batch: this is the
// one place where gradient sums are divided by the sample count.
#pragma once

#include <cstdint>
#include <vector>

#include "core/network.h"

namespace dpmlp {

struct SgdOptions {
  double momentum = 0.0;  // mu in [0, 1); 0 is plain SGD
  bool nesterov = false;
  double weight_decay = 0.0;  // L2 lambda
  double l1 = 0.0;            // L1 lambda (subgradient sign(w), 0 at w = 0)
  bool decay_biases = false;  // biases are not decayed by default
  double clip_norm = 0.0;     // clip the mean gradient to this global L2 norm (0: off)
  double max_norm = 0.0;      // cap each unit's incoming weight vector at this L2 norm (0: off)
};

class MomentumSgd {
 public:
  MomentumSgd(const ParamLayout& layout, const SgdOptions& options);

  // The velocity of the shard this optimizer updates (all parameters unless SetShard was called):
  // velocity()[i] belongs to parameter shard_begin() + i.
  std::vector<float>& velocity() { return velocity_; }
  const std::vector<float>& velocity() const { return velocity_; }
  const SgdOptions& options() const { return options_; }

  // Sharded update (ZeRO stage 1): this optimizer keeps the velocity of parameters [begin, end)
  // only, and UpdateSpan updates spans inside it. The velocity starts at zero.
  void SetShard(size_t begin, size_t end);
  size_t shard_begin() const { return shard_begin_; }
  size_t shard_end() const { return shard_begin_ + velocity_.size(); }
  // The shard's velocity from the whole-model velocity (a checkpoint's).
  void SetVelocityFromWhole(const std::vector<float>& whole);

  // L2 norm of grad_sum / count (before clipping), in double.
  static double MeanGradNorm(const float* grad_sum, size_t n, double count);

  // One update from gradient sums over `count` samples with learning rate lr. count == 0
  // (an empty batch) leaves everything unchanged. Returns the mean gradient's norm when
  // clip_norm is on (else 0). With `finite`, also tells whether every gradient sum was finite,
  // found in the update loop itself (no extra pass); the update has then been applied anyway,
  // so a caller that sees false must stop training, not continue from these parameters.
  double Step(float* params, const float* grad_sum, double count, double lr,
              bool* finite = nullptr);

  // The pieces of Step, for an update split over ranks. The factor that turns gradient sums into
  // the (clipped) mean gradient: 1 / count, times clip_norm / norm when norm exceeds clip_norm.
  double GradScale(double count, double norm) const;
  // The update of parameters [begin, end), inside the shard, from their gradient sums
  // grad_sum[0, end - begin): params[i] and velocity of parameter i, for begin <= i < end,
  // exactly as Step computes them. Returns false when a gradient sum is not finite.
  bool UpdateSpan(float* params, const float* grad_sum, size_t begin, size_t end, double g_scale,
                  double lr);
  // Max-norm (when on): each unit's incoming weights rescaled onto the ball, over all params.
  void ApplyMaxNorm(float* params) const;

 private:
  ParamLayout layout_;
  SgdOptions options_;
  std::vector<float> velocity_;
  std::vector<uint8_t> decays_;  // 1 where weight decay applies
  size_t shard_begin_ = 0;
};

// Running mean for weight averaging (Polyak/SWA): with `mean` the mean of count-1 vectors, makes
// it the mean of count by mean += (x - mean) / count; count == 1 copies x. Elementwise, in float,
// so every rank computes the same bits from the same parameters.
void UpdateRunningMean(const float* x, size_t n, int64_t count, float* mean);

// Learning rate at a step: constant | step (x gamma every lr_step_epochs) | cosine (to min_lr at
// the last step), each after an optional linear warmup. A pure function of the step, so
// schedule state survives resume by construction.
struct LrSchedule {
  enum class Kind { kConstant, kStep, kCosine };
  Kind kind = Kind::kConstant;
  double base_lr = 0.1;
  double gamma = 0.1;
  int step_epochs = 10;
  double warmup_epochs = 0.0;
  double min_lr = 0.0;
  int64_t steps_per_epoch = 1;
  int64_t total_steps = 1;

  double At(int64_t step) const;
  // Parses constant|step|cosine; throws UsageError naming --lr-schedule.
  static Kind Parse(const std::string& s);
  static const char* Name(Kind k);
};

}  // namespace dpmlp
