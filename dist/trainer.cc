#include "dist/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "core/atomic_file.h"
#include "core/blas_info.h"
#include "core/regularize.h"
#include "core/rng.h"
#include "dist/checkpoint_state.h"
#include "dist/grad_exchange.h"
#include "dist/progress.h"
#include "dist/rank_zero.h"
#include "dist/shard.h"
#include "dist/signals.h"
#include "dist/trainer_impl.h"
#include "proto/model_codec.h"

namespace dpmlp {

void EpochPermutation(uint64_t seed, int64_t epoch, std::vector<size_t>* perm) {
  std::iota(perm->begin(), perm->end(), size_t{0});
  for (size_t i = perm->size(); i > 1; --i) {
    const size_t j = HashKey(seed, RngPurpose::kShuffle, static_cast<uint64_t>(epoch), i - 1) % i;
    std::swap((*perm)[i - 1], (*perm)[j]);
  }
}

double Fingerprint(const float* data, size_t n) {
  uint64_t h = 0x243F6A8885A308D3ull;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &data[i], sizeof bits);
    h = SplitMix64(h ^ bits);
  }
  return static_cast<double>(h >> 12);
}

void CheckReplicasAgree(Communicator& comm, const std::vector<float>& params,
                        const std::string& when) {
  const std::vector<double> all = comm.Allgather(Fingerprint(params.data(), params.size()));
  std::string differ;
  for (int r = 1; r < comm.size(); ++r)
    if (all[r] != all[0]) differ += (differ.empty() ? "" : ",") + std::to_string(r);
  if (!differ.empty())
    throw CollectiveError(kExitInternal, "replica consistency check failed " + when + ": rank(s) " +
                                             differ + " hold parameters that differ from rank 0");
}

using trainer_internal::Since;
using namespace trainer_internal;  // the Tail slots

// The loop: one call a step, one an epoch end, then the finish.
TrainSummary Trainer::Impl::Run() {
  Start();
  DeferStopSignals();  // from here a signal means: checkpoint at the next step, exit 75
  while (pos.epoch < cfg.epochs && !stop_early && !MaxStepsReached()) {
    const int64_t n = static_cast<int64_t>(data.train.size);
    EpochPermutation(cfg.seed, pos.epoch, &perm);
    progress.StartEpoch(pos.epoch, cfg.epochs, n, pos.position_in_epoch);
    clock = EpochClock{Clock::now()};
    while (pos.position_in_epoch < n && !MaxStepsReached() && output_failures.empty()) {
      try {
        Step(std::min<int64_t>(cfg.batch_size, n - pos.position_in_epoch));
        AfterStep();
      } catch (...) {
        exchange.CompleteParams();  // a run that ends here leaves no parameter gather pending
        throw;
      }
    }
    progress.EndEpoch();
    if (!output_failures.empty() || pos.position_in_epoch < n) break;  // or --max-steps inside
    EndEpoch();
    if (!output_failures.empty()) break;
  }
  return Finish();
}

void Trainer::Impl::Start() {
  comm.SetCollectiveTimeout(cfg.collective_timeout);
  if (data.initial_params.empty())
    InitializeParams(spec, cfg.seed, net.params().data());
  else
    net.params() = data.initial_params;  // --init-from
  comm.Broadcast(net.params().data(), net.layout().size(), 0);
  OpenRunFiles();
  summary.resumed_from_step = Resume();
  CheckReplicasAgree(comm, net.params(), "at start");
  if (comm.size() > 1) Say("gradient exchange: %s\n", exchange.Describe().c_str());
  last_checkpoint = Clock::now();
  // A run resumed from the checkpoint written after an early stop (a requeued job reruns the same
  // command) has nothing left to train: the stop is part of the saved state.
  stop_early = cfg.early_stop_patience > 0 && pos.position_in_epoch == 0 &&
               pos.epochs_without_improvement >= cfg.early_stop_patience;
  if (stop_early) {
    summary.early_stopped = true;
    Say("early stopping: this run already stopped after epoch %lld; keeping the model of epoch "
        "%lld\n",
        (long long)pos.epoch, (long long)pos.best_epoch + 1);
  }
}

// One optimizer step on the next b samples of the epoch: this rank's shard forward and backward,
// the sums of every rank, the update.
void Trainer::Impl::Step(int64_t b) {
  const auto t0 = Clock::now();
  const bool cls = data.train.is_classification();
  const ShardRange shard = ShardRange::Of(b, comm.rank(), comm.size());
  const size_t* ids = perm.data() + pos.position_in_epoch + shard.begin;
  const int rows = static_cast<int>(shard.size());
  // With --overlap-gather the last step's parameter allgather is still running: the inputs are
  // gathered in blocks of rows, letting it move between them (each row depends only on its
  // sample, so the blocks give the same floats).
  const int block = exchange.gather_pending() ? 16 : std::max(rows, 1);
  for (int r = 0; r < rows; r += block) {
    GatherInputs(data.train, ids + r, static_cast<size_t>(std::min(block, rows - r)), transform,
                 cfg.augment, pos.epoch, x.data() + static_cast<size_t>(r) * spec.input_dim);
    exchange.Poll();
  }
  GatherTargets(data.train, ids, rows, cls ? labels.data() : nullptr,
                cls ? nullptr : targets.data());
  ApplyInputDropout(cfg.input_dropout, cfg.seed, pos.step, ids, static_cast<size_t>(rows),
                    spec.input_dim, x.data());
  const DropoutSpec dropout{cfg.dropout, cfg.seed, pos.step, ids};
  exchange.CompleteParams();
  net.Forward(x.data(), rows, cfg.dropout > 0 ? &dropout : nullptr);
  const BatchStats st = net.Loss(rows, cls ? labels.data() : nullptr,
                                 cls ? nullptr : targets.data(), true, cfg.label_smoothing);
  float* t = tail();
  t[kLossSum] = static_cast<float>(st.loss_sum);
  t[kCount] = static_cast<float>(st.count);
  t[kCorrect] = static_cast<float>(st.correct);
  t[kStopFlag] = StopSignalReceived() ? 1.0f : 0.0f;
  t[kCheckpointDue] = (comm.rank() == 0 && cfg.checkpoint_every_seconds > 0 &&
                       Since(last_checkpoint) >= cfg.checkpoint_every_seconds)
                          ? 1.0f
                          : 0.0f;
  comm.SetWatchContext("step", pos.step);
  // Bucketed: the allreduce of the last layers starts inside Backward.
  net.Backward(x.data(), rows, exchange.buffer(), exchange.BeginStep(), exchange.chunk());
  const auto t1 = Clock::now();
  // The sums and the update (sharded or not): the same new parameters on every rank.
  const bool finite = exchange.SumAndUpdate(opt, net.params().data(), static_cast<double>(b),
                                            schedule.At(pos.step));
  const auto t2 = Clock::now();
  Update(b, finite);
  clock.samples_here += b;
  const double update_s = exchange.update_seconds();
  clock.compute_s += std::chrono::duration<double>(t1 - t0).count() + Since(t2) + update_s;
  clock.comm_s += std::chrono::duration<double>(t2 - t1).count() - update_s;
  progress.Update(pos.position_in_epoch, pos.epoch_loss_sum / std::max(1.0, pos.epoch_samples));
}

// After the update from the summed gradients: the checks (on the sums, identical on every rank, so
// every rank takes the same decisions here) and the position after it.
void Trainer::Impl::Update(int64_t b, bool finite) {
  const float* t = tail_sums();
  const double loss_sum = t[kLossSum], count = t[kCount];
  if (count != static_cast<double>(b))
    throw CollectiveError(kExitInternal, "step " + std::to_string(pos.step) +
                                             ": the ranks processed " + std::to_string(count) +
                                             " samples of a batch of " + std::to_string(b));
  const double lr = schedule.At(pos.step);
  // The check rides in the update loop; the parameters it touched are never used or saved.
  if (!finite)
    throw CollectiveError(kExitDiverged, "training diverged at step " + std::to_string(pos.step) +
                                             ": non-finite gradient in " + NonFiniteLayer() +
                                             " (loss " + std::to_string(loss_sum / count) +
                                             "; lower --lr?)");
  if (!std::isfinite(loss_sum))
    throw CollectiveError(kExitDiverged, "training diverged at step " + std::to_string(pos.step) +
                                             ": the loss is not finite (lower --lr?)");
  pos.lr = lr;
  pos.step += 1;
  pos.position_in_epoch += b;
  pos.samples_seen += b;
  pos.epoch_loss_sum += loss_sum;
  pos.epoch_correct += t[kCorrect];
  pos.epoch_samples += b;
  UpdateAverage();
}

// A stop signal on any rank: checkpoint and exit 75. Then the periodic checkpoints.
void Trainer::Impl::AfterStep() {
  const float* t = tail_sums();
  if (t[kStopFlag] > 0) {
    progress.EndEpoch();
    EnterCheckpointCriticalSection();
    const std::string at = "stopped by a signal at step " + std::to_string(pos.step);
    if (!checkpoints.enabled())
      throw CollectiveError(kExitPreempted, at + "; no --checkpoint-dir, so nothing was saved");
    const std::string path = WriteCheckpoint();
    throw CollectiveError(kExitPreempted, at + "; checkpoint " + path +
                                              " written: rerun the same command to continue");
  }
  const bool every_steps = cfg.checkpoint_every > 0 && pos.step % cfg.checkpoint_every == 0;
  if (checkpoints.enabled() && (every_steps || t[kCheckpointDue] > 0)) {
    Output([&] { WriteCheckpoint(); });
    last_checkpoint = Clock::now();
  }
}

// Epoch end: evaluation, metrics, early stopping, replica check.
void Trainer::Impl::EndEpoch() {
  exchange.CompleteParams();
  pb::EpochMetrics m = EpochRecord();
  const EvalResult test = EvaluateSharded(comm, net, data.test, transform);
  m.set_test_loss(test.loss);
  data.train.is_classification() ? m.set_test_accuracy(test.accuracy) : m.set_test_mse(test.mse);
  const std::string val_text = TrackValidation(&m) + EvaluateAverage(&m);
  Say("epoch %lld/%d  step %lld  train loss %s  test %s%s  lr %.4g  %.1fk samples/s  "
      "(compute %.2fs, comm %.2fs, world %d)\n",
      (long long)pos.epoch + 1, cfg.epochs, (long long)pos.step, MetricText(m.train_loss()).c_str(),
      Describe(test).c_str(), val_text.c_str(), pos.lr, m.samples_per_sec() / 1000, clock.compute_s,
      clock.comm_s, comm.size());
  Output([&] { WriteMetrics(m); });
  CheckReplicasAgree(comm, net.params(), "at the end of epoch " + std::to_string(pos.epoch + 1));
  pos.epoch += 1;
  pos.position_in_epoch = 0;
  pos.epoch_loss_sum = 0;
  pos.epoch_correct = 0;
  pos.epoch_samples = 0;
  if (stop_early)
    Say("early stopping: no validation improvement for %d epochs; keeping the model of epoch "
        "%lld\n",
        cfg.early_stop_patience, (long long)pos.best_epoch + 1);
}

// The epoch's --metrics record before evaluation: position, placement, BLAS, training figures.
pb::EpochMetrics Trainer::Impl::EpochRecord() {
  const double epoch_seconds = Since(clock.start);
  pb::EpochMetrics m;
  m.set_epoch(pos.epoch + 1);
  m.set_step(pos.step);
  m.set_lr(pos.lr);
  m.set_world_size(comm.size());
  std::string hosts;  // a flat field: --metrics lines stay one flat JSON object
  for (const std::string& h : comm.Hostnames()) hosts += (hosts.empty() ? "" : ",") + h;
  m.set_rank_hosts(hosts);
  const BlasInfo blas = QueryBlas();
  m.set_blas_config(blas.config);
  m.set_blas_core(blas.core);
  m.set_exchange(exchange.Describe());
  m.set_blas_threads(blas.threads);
  m.set_samples(static_cast<int32_t>(pos.epoch_samples));
  const double es = std::max(1.0, pos.epoch_samples);
  m.set_train_loss(pos.epoch_loss_sum / es);
  if (data.train.is_classification()) m.set_train_accuracy(pos.epoch_correct / es);
  m.set_seconds(epoch_seconds);
  m.set_compute_seconds(clock.compute_s);
  m.set_comm_seconds(clock.comm_s);
  m.set_samples_per_sec(epoch_seconds > 0 ? clock.samples_here / (clock.compute_s + clock.comm_s)
                                          : 0.0);
  return m;
}

// With a validation set: its figures into m, the best model so far (best.pb under
// --checkpoint-dir) and the early-stopping count. Returns the text for the epoch line.
std::string Trainer::Impl::TrackValidation(pb::EpochMetrics* m) {
  if (data.val.size == 0) return "";
  const EvalResult val = EvaluateSharded(comm, net, data.val, transform);
  m->set_val_loss(val.loss);
  data.train.is_classification() ? m->set_val_accuracy(val.accuracy) : m->set_val_mse(val.mse);
  if (val.loss < pos.best_val_loss) {
    pos.best_val_loss = val.loss;
    pos.best_epoch = pos.epoch;
    pos.epochs_without_improvement = 0;
    state.best_params = net.params();
    if (checkpoints.enabled()) Output([&] { checkpoints.WriteBest(CurrentModel(net.params())); });
  } else {
    pos.epochs_without_improvement += 1;
    if (cfg.early_stop_patience > 0 && pos.epochs_without_improvement >= cfg.early_stop_patience)
      stop_early = summary.early_stopped = true;
  }
  return "  val " + Describe(val);
}

// Every output that can be written is, even when another failed; then exit 4 names each failure.
TrainSummary Trainer::Impl::Finish() {
  exchange.CompleteParams();
  if (checkpoints.enabled()) Output([&] { WriteCheckpoint(); });
  summary.params = net.params();
  if (cfg.early_stop_patience > 0 && !state.best_params.empty()) {
    summary.params = state.best_params;
    net.params() = state.best_params;
  }
  if (pos.average_count > 0) {
    Say("weight averaging: the final model is the mean of the parameters after the last %lld "
        "steps\n",
        (long long)pos.average_count);
    summary.params = state.average;
    net.params() = state.average;
  }
  if (!cfg.save_model_path.empty())
    Output([&] {
      RankZeroWrites(comm,
                     [&] { SaveModelFile(cfg.save_model_path, CurrentModel(summary.params)); });
      Say("saved model: %s\n", cfg.save_model_path.c_str());
    });
  summary.test = EvaluateSharded(comm, net, data.test, transform);
  summary.steps = pos.step;
  summary.samples_seen = pos.samples_seen;
  summary.epochs_completed = pos.epoch;
  summary.classification = data.train.is_classification();
  summary.stopped_by_max_steps = pos.epoch < cfg.epochs && !stop_early && MaxStepsReached();
  if (data.train.is_classification())
    Say("final: test accuracy %.2f%% (%lld samples), test loss %s, %lld steps, %lld samples "
        "seen\n",
        100 * summary.test.accuracy, (long long)summary.test.count,
        MetricText(summary.test.loss).c_str(), (long long)summary.steps,
        (long long)summary.samples_seen);
  else
    Say("final: test mse %s (%lld samples), test loss %s, %lld steps, %lld samples seen\n",
        MetricText(summary.test.mse).c_str(), (long long)summary.test.count,
        MetricText(summary.test.loss).c_str(), (long long)summary.steps,
        (long long)summary.samples_seen);
  if (!output_failures.empty()) {
    std::string all;
    for (const auto& f : output_failures) all += "\n  " + f;
    throw CollectiveError(kExitIo, std::to_string(output_failures.size()) +
                                       " output(s) failed; every other output was written:" + all);
  }
  return summary;
}

Trainer::Trainer(Communicator& comm, const ModelSpec& spec, const TrainData& data,
                 const TrainConfig& config)
    : impl_(std::make_unique<Impl>(comm, spec, data, config)) {}
Trainer::~Trainer() = default;
TrainSummary Trainer::Run() { return impl_->Run(); }
TrainSummary Trainer::SoFar() const {
  TrainSummary s;
  s.steps = impl_->pos.step;
  s.samples_seen = impl_->pos.samples_seen;
  s.epochs_completed = impl_->pos.epoch;
  s.resumed_from_step = impl_->summary.resumed_from_step;
  return s;
}

}  // namespace dpmlp
