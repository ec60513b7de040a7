// The trainer's internals, shared by dist/trainer.cc (the loop) and dist/trainer_state.cc
// (checkpoints, resume, metrics and weight averaging). Not part of the trainer's interface.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/number_text.h"
#include "dist/checkpoint_state.h"
#include "dist/checkpointer.h"
#include "dist/grad_exchange.h"
#include "dist/progress.h"
#include "dist/trainer.h"

namespace dpmlp {
namespace trainer_internal {

using Clock = std::chrono::steady_clock;
inline double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Slots after the gradients in the allreduced buffer.
enum Tail { kLossSum, kCount, kCorrect, kStopFlag, kCheckpointDue, kTailSize };

}  // namespace trainer_internal

struct Trainer::Impl {
  using Clock = trainer_internal::Clock;
  Communicator& comm;
  ModelSpec spec;
  const TrainData& data;
  InputTransform transform;  // data.transform, or the resumed checkpoint's
  TrainConfig cfg;
  std::FILE* out;  // rank 0 only
  Network<float> net;
  MomentumSgd opt;
  LrSchedule schedule;
  Progress progress;
  std::vector<size_t> perm;
  std::vector<float> x, targets;
  std::vector<int32_t> labels;
  TrainingState state;
  TrainingPosition& pos = state.position;
  int64_t steps_per_epoch = 1;
  int64_t max_shard = 1;
  Checkpointer checkpoints;                  // --checkpoint-dir: writes, keep-K, resume, best.pb
  std::vector<std::string> output_failures;  // outputs that failed; the run ends with exit 4
  // Owns the gradient buffer (the gradients, then the Tail slots: what is summed) and sums it
  // over ranks.
  GradientExchange exchange;
  Clock::time_point last_checkpoint;  // for --checkpoint-every-seconds
  bool stop_early = false;            // early stopping decided (or already in the state)
  struct EpochClock {
    Clock::time_point start;
    double compute_s = 0.0, comm_s = 0.0;  // this rank's step time, split
    int64_t samples_here = 0;              // samples stepped in this run (not before a resume)
  } clock;
  TrainSummary summary;

  Impl(Communicator& c, const ModelSpec& s, const TrainData& d, const TrainConfig& config)
      : comm(c),
        spec(s),
        data(d),
        transform(d.transform),
        cfg(config),
        out(c.rank() == 0 ? stdout : nullptr),
        net(s, static_cast<int>((config.batch_size + c.size() - 1) / c.size())),
        opt(net.layout(), config.sgd),
        progress(config.progress, c.rank() == 0, config.progress_bar_allowed),
        checkpoints(c, cfg, spec, out),
        exchange(c, net.layout().size(), trainer_internal::kTailSize,
                 ExchangeOptions{static_cast<size_t>(config.allreduce_bucket_kb * 1024 / 4),
                                 config.grad_wire == "bf16",
                                 config.allreduce == "mpi"   ? SumPath::kMpi
                                 : config.allreduce == "shm" ? SumPath::kShared
                                                             : SumPath::kAuto,
                                 config.update == "replicated" ? UpdatePath::kReplicated
                                 : config.update == "sharded"  ? UpdatePath::kSharded
                                                               : UpdatePath::kAuto,
                                 config.overlap_gather}) {
    if (exchange.sharded()) opt.SetShard(exchange.share_begin(), exchange.share_end());
    const int64_t n = static_cast<int64_t>(d.train.size);
    steps_per_epoch = std::max<int64_t>(1, (n + cfg.batch_size - 1) / cfg.batch_size);
    max_shard = net.max_rows();
    perm.resize(d.train.size);
    x.resize(static_cast<size_t>(max_shard) * s.input_dim);
    targets.resize(static_cast<size_t>(max_shard) * s.output_dim);
    labels.resize(max_shard);
    schedule.kind = cfg.lr_schedule;
    schedule.base_lr = cfg.lr;
    schedule.gamma = cfg.lr_gamma;
    schedule.step_epochs = cfg.lr_step_epochs;
    schedule.warmup_epochs = cfg.warmup_epochs;
    schedule.min_lr = cfg.min_lr;
    schedule.steps_per_epoch = steps_per_epoch;
    // The schedule spans --epochs; --max-steps only stops early, so a run cut short by it and
    // resumed later follows exactly the same learning rates.
    schedule.total_steps = steps_per_epoch * cfg.epochs;
  }

  template <typename... A>
  void Say(const char* fmt, A... args) {
    if (!out) return;
    std::fprintf(out, fmt, args...);
    std::fflush(out);
  }

  ModelData CurrentModel(const std::vector<float>& params) const {
    ModelData m;
    m.spec = spec;
    m.transform = transform;
    m.image_height = data.train.image_height;
    m.image_width = data.train.image_width;
    m.params = params;
    return m;
  }

  // Runs an output step; an I/O failure is remembered (the run goes on to write what it can, then
  // exits 4 naming every failure) instead of ending the run at once.
  void Output(const std::function<void()>& write);

  // Opens the checkpoint directory; rank 0 repairs a metrics file cut by an interrupted write.
  void OpenRunFiles();

  std::string WriteCheckpoint();  // returns its path

  // Loads the checkpoint chosen by --resume into every rank; returns the step or -1.
  int64_t Resume();
  void RestoreState(const pb::Checkpoint& ck, const std::string& path);

  // The name of the first layer tensor holding a non-finite gradient (collective when the update
  // is sharded).
  std::string NonFiniteLayer();

  void WriteMetrics(const pb::EpochMetrics& m);

  std::string Describe(const EvalResult& r) const {
    char buf[128];
    if (data.test.is_classification())
      std::snprintf(buf, sizeof buf, "loss %s accuracy %.2f%%", MetricText(r.loss).c_str(),
                    100 * r.accuracy);
    else
      std::snprintf(buf, sizeof buf, "mse %s", MetricText(r.mse).c_str());
    return buf;
  }

  // --average-epochs: after each step of the last K epochs, fold the parameters into the mean.
  void UpdateAverage();

  // The epoch-end figures of the averaged parameters (once there are any) into m; returns the
  // text for the epoch line.
  std::string EvaluateAverage(pb::EpochMetrics* m);

  // The floats after the gradients in the summed buffer (the Tail slots): this rank's, written
  // before the exchange, and the sums over ranks after it.
  float* tail() { return exchange.buffer() + net.layout().size(); }
  const float* tail_sums() const { return exchange.tail_sums(); }
  bool MaxStepsReached() const { return cfg.max_steps > 0 && pos.step >= cfg.max_steps; }

  // The loop (dist/trainer.cc): Run calls Start, then Step and AfterStep for each batch, EndEpoch
  // at each epoch's end, and Finish.
  TrainSummary Run();
  void Start();
  void Step(int64_t batch);
  void Update(int64_t batch, bool finite);
  void AfterStep();
  void EndEpoch();
  pb::EpochMetrics EpochRecord();
  std::string TrackValidation(pb::EpochMetrics* m);
  TrainSummary Finish();
};

}  // namespace dpmlp
