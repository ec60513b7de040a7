#include "dist/grad_exchange.h"

#include "core/bf16.h"
#include "core/error.h"

namespace dpmlp {

GradientExchange::GradientExchange(Communicator& comm, size_t nparams, size_t tail,
                                   const ExchangeOptions& options)
    : comm_(comm), nparams_(nparams), tail_(tail), options_(options) {
  if (options_.bf16) wire_.resize(nparams_);
  const bool fused_fp32 = options_.bucket_floats == 0 && !options_.bf16;
  const size_t window_bytes = (comm.size() + 1) * (nparams_ + tail_) * sizeof(float);
  const bool want = options_.path == SumPath::kShared ||
                    (options_.path == SumPath::kAuto && window_bytes <= kSharedSumAutoBytes);
  if (comm.size() > 1 && fused_fp32 && want) shared_ = comm.PrepareSharedSum(nparams_ + tail_);
  if (shared_) {
    buffer_ = comm.SharedSlot();
    sums_ = comm.SharedResult();
  } else {
    own_.assign(nparams_ + tail_, 0.0f);
    buffer_ = own_.data();
    sums_ = buffer_;  // summed in place
  }
  if (options_.path == SumPath::kShared && !shared_ && comm.size() > 1)
    throw CollectiveError(
        kExitUsage, fused_fp32 ? "--allreduce shm: the ranks are not all on one host, or the "
                                 "host's shared-memory window could not be allocated"
                               : "--allreduce shm sums fp32 gradients after backward: it does "
                                 "not go with --allreduce-bucket-kb or --grad-wire bf16");
}

std::string GradientExchange::Describe() const {
  if (comm_.size() == 1) return "none (one rank)";
  if (shared_) return "shared-memory sum (every rank on one host)";
  std::string d = options_.bf16 ? "MPI allreduce, bf16 on the wire" : "MPI allreduce";
  if (options_.bucket_floats > 0)
    d += ", buckets of " + std::to_string(options_.bucket_floats * 4 / 1024) + " KiB";
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

}  // namespace dpmlp
