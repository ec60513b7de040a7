// How one step's gradient reaches every rank after backward in one fused allreduce, or
// in buckets started during backward as their layers finish (last layers first), and on the wire as
// fp32 or, opt-in, bfloat16.
//
//   GradientExchange ex(comm, nparams, tail, options);
//   ... fill the tail: ex.buffer() + nparams ...
//   net.Backward(x, rows, ex.buffer(), ex.BeginStep(), ex.chunk());  // buckets start here
//   ex.Finish();                      // the rest; ex.sums() then holds the sums on every rank
//
// or, in place of Finish and the optimizer's step, ex.SumAndUpdate(opt, params, count, lr), which
// also runs the update. With the sharded update (ZeRO stage 1) each rank updates only its share
// of the parameters and keeps only that share's velocity, and the new parameters then reach every
// rank: MPI's reduce-scatter and allgather, or on one host the shared window, where each rank sums
// its share of every rank's slot and updates it in one pass and the others copy it from there.
//
// The buffer is the exchange's: with the shared-memory sum it is this rank's slot of the host's
// window and the sums are the window's result block, so the gradients are never copied.
//
// fp32 sums are exact up to float summation order, like the fused call. bf16 rounds each gradient
// to 8 significant bits before the sum and the sum itself to bf16; the tail (loss sum, sample
// count, flags) always travels as fp32, so counts stay exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/network.h"
#include "core/optimizer.h"
#include "dist/communicator.h"

namespace dpmlp {

// How the fused (default) exchange sums: auto takes the host's shared-memory window when every
// rank is on one host and the window is at most kSharedSumAutoBytes, else MPI's allreduce.
enum class SumPath { kAuto, kMpi, kShared };
constexpr size_t kSharedSumAutoBytes = size_t{32} << 20;

// Who updates which parameters: every rank all of them (replicated), or each rank its 1/p share
// (sharded: ZeRO stage 1). auto: sharded when the ranks are several and the sum is fused fp32.
enum class UpdatePath { kAuto, kReplicated, kSharded };

struct ExchangeOptions {
  size_t bucket_floats = 0;  // 0: one fused allreduce after backward
  bool bf16 = false;         // gradients on the wire as bfloat16
  SumPath path = SumPath::kAuto;
  UpdatePath update = UpdatePath::kAuto;
  // The sharded update over MPI: leave the parameters' allgather pending when SumAndUpdate
  // returns, for CompleteParams to finish (the caller works on the next step's inputs meanwhile).
  bool overlap_gather = false;
};

class GradientExchange : public GradientSink {
 public:
  // The buffer holds nparams gradients followed by `tail` floats of the caller's. Collective (it
  // may set up the shared-memory window; one such exchange per communicator at a time). Throws
  // CollectiveError (exit 2) when the options ask for the shared-memory sum and it cannot be had.
  GradientExchange(Communicator& comm, size_t nparams, size_t tail, const ExchangeOptions& options);

  // Where this rank writes the step's gradients and tail (before Finish).
  float* buffer() { return buffer_; }
  // The sums of every rank's buffer, after Finish (until the next step's Finish).
  const float* sums() const { return sums_; }

  // What sums the gradients, for the log: "shared-memory sum (one host)", "MPI allreduce", ...
  std::string Describe() const;

  // Starts the step: call it once per step, after the tail is filled and before Backward. Returns
  // the sink to pass to Network::Backward (nullptr when fused), with chunk() as its chunk size.
  GradientSink* BeginStep();
  size_t chunk() const { return options_.bucket_floats; }

  void Ready(size_t begin, size_t end) override;
  // Starts what is left and waits for every sum.
  void Finish();

  // In place of Finish: the sums and opt's update of params from them, for a batch of `count`
  // samples, so that params hold the same new parameters on every rank. The tail's sums are then
  // at tail_sums(). Returns whether every gradient sum was finite, the same answer on every rank
  // (the update has then been applied anyway). Collective.
  bool SumAndUpdate(MomentumSgd& opt, float* params, double count, double lr);
  const float* tail_sums() const { return tail_sums_; }
  // With overlap_gather: the parameters are whole only after this (a no-op when nothing is
  // pending). Call it before anything reads the parameters; Poll lets the gather move meanwhile.
  void CompleteParams();
  void Poll() {
    if (gather_pending_) comm_.Poll();
  }
  bool gather_pending() const { return gather_pending_; }
  // Seconds of the last SumAndUpdate spent in the update alone (the rest is the exchange; the
  // shared window's sharded update sums and updates in one pass and counts as exchange).
  double update_seconds() const { return update_seconds_; }

  // Sharded: this rank updates parameters [share_begin(), share_end()) (all of them otherwise).
  bool sharded() const { return sharded_; }
  size_t share_begin() const { return share_[comm_.rank()]; }
  size_t share_end() const { return share_[comm_.rank()] + shares_[comm_.rank()]; }
  // Collective when sharded: every rank's velocity share put together (for checkpoints).
  std::vector<float> WholeVelocity(const MomentumSgd& opt);
  // Collective when sharded: the index of the first parameter whose gradient sum (of the last
  // step) is not finite, or nparams when there is none.
  size_t FirstNonFinite();

 private:
  void Start(size_t begin, size_t end);
  bool SharedSumAndUpdate(MomentumSgd& opt, float* params, double count, double lr);
  bool MpiSumAndUpdate(MomentumSgd& opt, float* params, double count, double lr);
  // The mean gradient's norm from this rank's share of the sums (collective).
  double ShardedNorm(const float* share_sums, double count);

  Communicator& comm_;
  std::vector<float> own_;  // the buffer unless it is the shared window's slot
  float* buffer_ = nullptr;
  const float* sums_ = nullptr;
  size_t nparams_, tail_;
  ExchangeOptions options_;
  std::vector<uint16_t> wire_;  // bf16 copies of the gradients, same offsets
  // Spans arrive from the end of the buffer down: [next_end_, pending_end_) has been received but
  // not yet started, and the next span must end at next_end_.
  size_t next_end_ = 0, pending_end_ = 0;
  bool started_ = false;
  bool shared_ = false;   // the fused sum goes through the host's shared-memory window
  bool sharded_ = false;  // each rank updates its share (ZeRO stage 1)
  std::vector<size_t> share_, shares_;  // rank r's share: shares_[r] parameters from share_[r]
  std::vector<float> scratch_;          // sharded: this rank's share of the sums
  const float* tail_sums_ = nullptr;
  double update_seconds_ = 0.0;
  bool overlap_ = false;         // overlap_gather, where it applies (the sharded MPI path)
  bool gather_pending_ = false;  // the parameters' allgather is started, not completed
  const MomentumSgd* gather_opt_ = nullptr;  // for max-norm once the gather completes
  float* gather_params_ = nullptr;
};

}  // namespace dpmlp
