#include "dist/grad_exchange.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/bf16.h"
#include "core/error.h"
#include "dist/shard.h"

namespace dpmlp {

GradientExchange::GradientExchange(Communicator& comm, size_t nparams, size_t tail,
                                   const ExchangeOptions& options)
    : comm_(comm), nparams_(nparams), tail_(tail), options_(options) {
  const int p = comm.size();
  if (options_.bf16) wire_.resize(nparams_);
  const bool fused_fp32 = options_.bucket_floats == 0 && !options_.bf16;
  if (options_.update == UpdatePath::kSharded && !fused_fp32 && p > 1)
    throw CollectiveError(kExitUsage,
                          "--update sharded sums fp32 gradients after backward: it does not go "
                          "with --allreduce-bucket-kb or --grad-wire bf16");
  sharded_ = p > 1 && fused_fp32 && options_.update != UpdatePath::kReplicated;
  for (int r = 0; r < p; ++r) {
    const ShardRange share = ShardRange::Of(static_cast<int64_t>(nparams_), r, p);
    share_.push_back(share.begin);
    shares_.push_back(share.size());
  }
  // The sharded update's window slot ends with one status float per rank (its share finite?).
  const size_t slot = nparams_ + tail_ + (sharded_ ? p : 0);
  const size_t window_bytes = (p + 1) * slot * sizeof(float);
  const bool want = options_.path == SumPath::kShared ||
                    (options_.path == SumPath::kAuto && window_bytes <= kSharedSumAutoBytes);
  if (p > 1 && fused_fp32 && want) shared_ = comm.PrepareSharedSum(slot);
  if (shared_) {
    buffer_ = comm.SharedSlot();
    sums_ = comm.SharedResult();
  } else {
    own_.assign(nparams_ + tail_, 0.0f);
    buffer_ = own_.data();
    sums_ = buffer_;  // summed in place
    if (sharded_) scratch_.resize(shares_[comm.rank()]);
    overlap_ = sharded_ && options_.overlap_gather;
  }
  tail_sums_ = sums_ + nparams_;
  if (options_.path == SumPath::kShared && !shared_ && p > 1)
    throw CollectiveError(
        kExitUsage, fused_fp32 ? "--allreduce shm: the ranks are not all on one host, or the "
                                 "host's shared-memory window could not be allocated"
                               : "--allreduce shm sums fp32 gradients after backward: it does "
                                 "not go with --allreduce-bucket-kb or --grad-wire bf16");
}

std::string GradientExchange::Describe() const {
  if (comm_.size() == 1) return "none (one rank)";
  if (shared_ && sharded_)
    return "shared-memory sum and sharded update (ZeRO-1; every rank on one host)";
  if (shared_) return "shared-memory sum (every rank on one host)";
  std::string d = options_.bf16 ? "MPI allreduce, bf16 on the wire" : "MPI allreduce";
  if (options_.bucket_floats > 0)
    d += ", buckets of " + std::to_string(options_.bucket_floats * 4 / 1024) + " KiB";
  if (sharded_)
    d = std::string("MPI reduce-scatter, sharded update (ZeRO-1), allgather") +
        (overlap_ ? " overlapped with the next step's input gather" : "");
  return d;
}

GradientSink* GradientExchange::BeginStep() {
  started_ = true;
  // fp32: the tail rides with the first bucket. bf16: the tail goes first, on its own, in fp32.
  next_end_ = nparams_;
  pending_end_ = nparams_ + (options_.bf16 ? 0 : tail_);
  if (options_.bf16 && tail_ > 0 && comm_.size() > 1)
    comm_.StartAllreduceSum(buffer_ + nparams_, tail_);
  return options_.bucket_floats > 0 && comm_.size() > 1 ? this : nullptr;
}

void GradientExchange::Ready(size_t begin, size_t end) {
  if (end != next_end_)
    throw InternalError("gradient spans out of order: [" + std::to_string(begin) + ", " +
                        std::to_string(end) + ") where one ending at " + std::to_string(next_end_) +
                        " was due");
  next_end_ = begin;
  if (pending_end_ - begin >= options_.bucket_floats) {
    Start(begin, pending_end_);
    pending_end_ = begin;
  }
  comm_.Poll();
}

void GradientExchange::Start(size_t begin, size_t end) {
  if (!options_.bf16) {
    comm_.StartAllreduceSum(buffer_ + begin, end - begin);
    return;
  }
  FloatsToBf16(buffer_ + begin, wire_.data() + begin, end - begin);
  comm_.StartAllreduceSumBf16(wire_.data() + begin, end - begin);
}

void GradientExchange::Finish() {
  if (!started_) throw InternalError("GradientExchange::Finish without BeginStep()");
  if (sharded_) throw InternalError("GradientExchange::Finish with the sharded update");
  started_ = false;
  if (comm_.size() == 1) return;
  if (shared_) {
    comm_.SharedSum();
    return;
  }
  if (options_.bucket_floats == 0 && !options_.bf16) {
    comm_.AllreduceSum(buffer_, nparams_ + tail_);  // one blocking call
    return;
  }
  if (options_.bucket_floats > 0 && next_end_ != 0)
    throw InternalError("backward reported only part of the gradient (down to " +
                        std::to_string(next_end_) + ")");
  if (pending_end_ > 0) Start(0, pending_end_);
  comm_.WaitAll();
  if (options_.bf16) Bf16ToFloats(wire_.data(), buffer_, nparams_);
}

namespace {
using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
// Floats summed and updated at a time by the shared window's sharded update: the block stays in
// L1 between its sum and its update.
constexpr size_t kFusedBlock = 2048;
}  // namespace

bool GradientExchange::SumAndUpdate(MomentumSgd& opt, float* params, double count, double lr) {
  CompleteParams();  // the last step's gather, if nobody completed it
  if (!sharded_) {
    Finish();
    const auto t = Clock::now();
    bool finite = true;
    opt.Step(params, sums_, count, lr, &finite);
    update_seconds_ = Since(t);
    return finite;
  }
  if (!started_) throw InternalError("GradientExchange::SumAndUpdate without BeginStep()");
  started_ = false;
  return shared_ ? SharedSumAndUpdate(opt, params, count, lr)
                 : MpiSumAndUpdate(opt, params, count, lr);
}

double GradientExchange::ShardedNorm(const float* share_sums, double count) {
  const double mine = MomentumSgd::MeanGradNorm(share_sums, shares_[comm_.rank()], 1.0);
  double sq = 0.0;
  for (double each : comm_.Allgather(mine * mine)) sq += each;  // rank order on every rank
  return count > 0 ? std::sqrt(sq) / count : 0.0;
}

bool GradientExchange::SharedSumAndUpdate(MomentumSgd& opt, float* params, double count,
                                          double lr) {
  const int p = comm_.size(), me = comm_.rank();
  const size_t lo = share_[me], hi = lo + shares_[me];
  float* result = comm_.SharedResultBlock();  // the new parameters, then the tail's sums
  float* status = result + nparams_ + tail_;  // one per rank: 1 when its share was not finite
  update_seconds_ = 0.0;
  // Barrier: every slot holds its rank's gradients. Until the next one, this rank reads its share
  // of every slot and writes its share of the result block, which no other rank touches.
  comm_.SharedBarrier();
  bool ok = true;
  if (opt.options().clip_norm > 0.0) {  // the norm is needed before the first update
    scratch_.resize(hi - lo);
    comm_.SumSharedSlots(lo, hi, scratch_.data());
    const double scale = count > 0 ? opt.GradScale(count, ShardedNorm(scratch_.data(), count)) : 0;
    if (count > 0) ok = opt.UpdateSpan(params, scratch_.data(), lo, hi, scale, lr);
    std::memcpy(result + lo, params + lo, (hi - lo) * sizeof(float));
  } else {
    const double scale = count > 0 ? opt.GradScale(count, 0.0) : 0.0;
    float block[kFusedBlock];
    for (size_t b = lo; b < hi; b += kFusedBlock) {
      const size_t e = std::min(hi, b + kFusedBlock);
      comm_.SumSharedSlots(b, e, block);
      if (count > 0) ok = opt.UpdateSpan(params, block, b, e, scale, lr) && ok;
      std::memcpy(result + b, params + b, (e - b) * sizeof(float));
    }
  }
  if (me == p - 1) comm_.SumSharedSlots(nparams_, nparams_ + tail_, result + nparams_);
  status[me] = ok ? 0.0f : 1.0f;
  // Barrier: every share is updated. The others' shares are copied before this rank's next first
  // barrier, after which they may be rewritten.
  comm_.SharedBarrier();
  bool finite = true;
  for (int r = 0; r < p; ++r) {
    finite = finite && status[r] == 0.0f;
    if (r != me) std::memcpy(params + share_[r], result + share_[r], shares_[r] * sizeof(float));
  }
  opt.ApplyMaxNorm(params);
  return finite;
}

bool GradientExchange::MpiSumAndUpdate(MomentumSgd& opt, float* params, double count, double lr) {
  const size_t lo = share_begin(), hi = share_end();
  if (tail_ > 0) comm_.StartAllreduceSum(buffer_ + nparams_, tail_);
  comm_.ReduceScatterSum(buffer_, scratch_.data(), shares_);
  comm_.WaitAll();
  const auto t = Clock::now();
  bool ok = true;
  if (count > 0) {
    const double norm = opt.options().clip_norm > 0.0 ? ShardedNorm(scratch_.data(), count) : 0.0;
    ok = opt.UpdateSpan(params, scratch_.data(), lo, hi, opt.GradScale(count, norm), lr);
  }
  update_seconds_ = Since(t);
  float not_finite = ok ? 0.0f : 1.0f;  // summed alongside the parameters' allgather
  if (overlap_) {
    // The flag first (a small sum), then the gather is left running; a non-finite step
    // completes it at once, since the run ends there.
    comm_.AllreduceSum(&not_finite, 1);
    comm_.StartAllgatherInPlace(params, shares_);
    gather_pending_ = true;
    gather_opt_ = &opt;
    gather_params_ = params;
    if (not_finite != 0.0f) CompleteParams();
    return not_finite == 0.0f;
  }
  comm_.StartAllreduceSum(&not_finite, 1);
  comm_.AllgatherInPlace(params, shares_);
  comm_.WaitAll();
  opt.ApplyMaxNorm(params);
  return not_finite == 0.0f;
}

void GradientExchange::CompleteParams() {
  if (!gather_pending_) return;
  gather_pending_ = false;
  comm_.WaitAll();
  gather_opt_->ApplyMaxNorm(gather_params_);
}

std::vector<float> GradientExchange::WholeVelocity(const MomentumSgd& opt) {
  CompleteParams();
  if (!sharded_) return opt.velocity();
  std::vector<float> whole(nparams_, 0.0f);
  std::copy(opt.velocity().begin(), opt.velocity().end(), whole.begin() + share_begin());
  comm_.AllgatherInPlace(whole.data(), shares_);
  return whole;
}

size_t GradientExchange::FirstNonFinite() {
  CompleteParams();
  const auto first_in = [](const float* g, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      if (!std::isfinite(g[i - begin])) return i;
    return end;
  };
  if (!sharded_) return first_in(sums_, 0, nparams_);
  const size_t lo = share_begin(), hi = share_end();
  if (shared_) {  // the slots are unchanged until the next step's backward
    scratch_.resize(hi - lo);
    comm_.SumSharedSlots(lo, hi, scratch_.data());
  }
  size_t first = first_in(scratch_.data(), lo, hi);
  if (first == hi) first = nparams_;
  for (double each : comm_.Allgather(static_cast<double>(first)))
    first = std::min(first, static_cast<size_t>(each));
  return first;
}

}  // namespace dpmlp
