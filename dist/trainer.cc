#include "dist/trainer.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "core/rng.h"
#include "dist/checkpoint_state.h"
#include "dist/grad_exchange.h"
#include "dist/metrics_file.h"
#include "dist/progress.h"
#include "dist/shard.h"
#include "dist/signals.h"
#include "proto/checkpoint_dir.h"
#include "proto/framed_file.h"

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

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Slots after the gradients in the allreduced buffer.
enum Tail { kLossSum, kCount, kCorrect, kStopFlag, kCheckpointDue, kTailSize };

}  // namespace

struct Trainer::Impl {
  Communicator& comm;
  ModelSpec spec;
  const TrainData& data;
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
  pb::TrainingPosition& pos = state.position;
  int64_t steps_per_epoch = 1;
  int64_t watched_step = 0;  // the step the watchdog names when a rank does not arrive
  int64_t max_shard = 1;

  Impl(Communicator& c, const ModelSpec& s, const TrainData& d, const TrainConfig& config)
      : comm(c),
        spec(s),
        data(d),
        cfg(config),
        out(c.rank() == 0 ? stdout : nullptr),
        net(s, static_cast<int>((config.batch_size + c.size() - 1) / c.size()), kTailSize),
        opt(net.layout(), config.sgd),
        progress(config.progress, c.rank() == 0) {
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
    pos.set_best_val_loss(INFINITY);
    pos.set_best_epoch(-1);
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
    m.transform = data.transform;
    m.image_height = data.train.image_height;
    m.image_width = data.train.image_width;
    m.params = params;
    return m;
  }

  // Rank 0 runs `write`; every rank learns whether it worked and throws the same IoError if not.
  void OnRankZero(const std::function<void()>& write) {
    std::string error;
    if (comm.rank() == 0) {
      try {
        write();
      } catch (const Error& e) {
        error = e.what();
      }
    }
    comm.Broadcast(&error, 0);
    if (!error.empty()) throw CollectiveError(kExitIo, error);
  }

  void WriteCheckpoint() {
    for (float v : net.params())
      if (!std::isfinite(v))
        throw CollectiveError(kExitDiverged,
                              "step " + std::to_string(pos.step()) +
                                  ": parameters are not finite; no checkpoint written");
    state.velocity = opt.velocity();
    OnRankZero([&] {
      const auto t0 = Clock::now();
      EnsureDirectory(cfg.checkpoint_dir);
      std::string bytes;
      MakeCheckpoint(CurrentModel(net.params()), cfg, state, comm.size()).SerializeToString(&bytes);
      const std::string path = CheckpointPath(cfg.checkpoint_dir, pos.step());
      WriteFramedFile(path, FramedKind::kCheckpoint, bytes);
      PruneCheckpoints(cfg.checkpoint_dir, cfg.keep);
      Say("checkpoint %s (%.1f MB, %.1f ms)\n", path.c_str(), bytes.size() / 1e6, 1000 * Since(t0));
    });
  }

  std::string BestModelPath() const { return cfg.checkpoint_dir + "/best.pb"; }

  // Loads the checkpoint chosen by --resume into every rank; returns the step or -1.
  int64_t Resume() {
    if (cfg.resume == "none" || (cfg.resume == "auto" && cfg.checkpoint_dir.empty())) return -1;
    // Rank 0 finds and reads the file; the bytes (or the error) go to every rank.
    std::string msg;  // 'C' + payload + '\0' + path, 'N' for none, 'E' + error
    if (comm.rank() == 0) {
      try {
        if (cfg.resume == "auto") {
          CheckpointEntry found;
          std::string payload;
          const bool ok = FindNewestValid(
              cfg.checkpoint_dir,
              [&](const std::string& path, const std::string& p) {
                ParseCheckpoint(p, path);
                payload = p;
              },
              [&](const std::string& w) { Say("warning: %s\n", w.c_str()); }, &found);
          msg = ok ? "C" + found.path + '\0' + payload : "N";
        } else {
          const std::string payload = ReadFramedFile(cfg.resume, FramedKind::kCheckpoint);
          ParseCheckpoint(payload, cfg.resume);
          msg = "C" + cfg.resume + '\0' + payload;
        }
      } catch (const Error& e) {
        msg = "E" + std::string(e.what());
      }
    }
    comm.Broadcast(&msg, 0);
    if (msg[0] == 'E') throw CollectiveError(kExitUsage, msg.substr(1));
    if (msg[0] == 'N') {
      Say("no checkpoint in %s: starting fresh\n", cfg.checkpoint_dir.c_str());
      return -1;
    }
    const size_t nul = msg.find('\0');
    const std::string path = msg.substr(1, nul - 1);
    const auto t0 = Clock::now();
    const pb::Checkpoint ck = ParseCheckpoint(msg.substr(nul + 1), path);
    const ModelData m = ModelFromProto(ck.model(), path);
    const std::vector<std::string> mismatches = SpecMismatches(m.spec, spec);
    if (!mismatches.empty()) {
      std::string all;
      for (const auto& s : mismatches) all += "\n  " + s;
      throw CollectiveError(
          kExitUsage, path + ": the checkpoint's model differs from the requested one:" + all);
    }
    for (const std::string& change : OptionChanges(ck.options(), cfg))
      Say("resume: using new value %s\n", change.c_str());
    net.params() = m.params;
    opt.velocity() = TensorsToFlat(spec, ck.velocity(), path);
    pos = ck.position();
    if (pos.position_in_epoch() > static_cast<int64_t>(data.train.size))
      throw CollectiveError(
          kExitUsage, path + ": position in epoch " + std::to_string(pos.position_in_epoch()) +
                          " is beyond the training set (" + std::to_string(data.train.size) +
                          " samples): was it written for other data?");
    if (cfg.early_stop_patience > 0 && pos.best_epoch() >= 0) {
      std::string best;
      OnRankZero([&] { best = ReadFramedFile(BestModelPath(), FramedKind::kModel); });
      comm.Broadcast(&best, 0);
      pb::Model bm;
      bm.ParseFromString(best);
      state.best_params = ModelFromProto(bm, BestModelPath()).params;
    }
    if (!cfg.metrics_path.empty()) {
      int dropped = 0;
      OnRankZero([&] { dropped = DropMetricsAfterEpoch(cfg.metrics_path, pos.epoch()); });
      if (dropped > 0)
        Say("resume: removed %d line(s) past epoch %lld from %s (the interrupted attempt's)\n",
            dropped, (long long)pos.epoch(), cfg.metrics_path.c_str());
    }
    Say("resumed from %s at step %lld (epoch %lld, %lld samples into it; saved by %d rank(s); "
        "parsed in %.1f ms)\n",
        path.c_str(), (long long)pos.step(), (long long)pos.epoch() + 1,
        (long long)pos.position_in_epoch(), ck.world_size(), 1000 * Since(t0));
    return pos.step();
  }

  // The name of the first layer tensor holding a non-finite gradient.
  std::string NonFiniteLayer() const {
    const auto& g = net.grads();
    for (size_t l = 0; l < net.layout().layers().size(); ++l) {
      const LayerSlot& s = net.layout().layers()[l];
      for (size_t i = s.weight_offset; i < s.bias_offset + s.pre; ++i)
        if (!std::isfinite(g[i]))
          return i < s.bias_offset ? ParamLayout::WeightName(l) : ParamLayout::BiasName(l);
    }
    return "?";
  }

  void WriteMetrics(const pb::EpochMetrics& m) {
    if (cfg.metrics_path.empty()) return;
    OnRankZero([&] {
      std::string line;
      google::protobuf::util::JsonPrintOptions o;
      o.preserve_proto_field_names = true;
      google::protobuf::util::MessageToJsonString(m, &line, o);
      line += '\n';
      std::FILE* f = std::fopen(cfg.metrics_path.c_str(), "a");
      const bool ok = f && std::fwrite(line.data(), 1, line.size(), f) == line.size();
      if (!f || std::fclose(f) != 0 || !ok)
        throw IoError(cfg.metrics_path + ": cannot append metrics: " + std::strerror(errno));
    });
  }

  std::string Describe(const EvalResult& r) const {
    char buf[128];
    if (data.test.is_classification())
      std::snprintf(buf, sizeof buf, "loss %.4f accuracy %.2f%%", r.loss, 100 * r.accuracy);
    else
      std::snprintf(buf, sizeof buf, "mse %.6f", r.mse);
    return buf;
  }

  TrainSummary Run();
};

TrainSummary Trainer::Impl::Run() {
  TrainSummary summary;
  const int64_t n = static_cast<int64_t>(data.train.size);
  const int world = comm.size(), rank = comm.rank();
  comm.SetCollectiveTimeout(cfg.collective_timeout);
  comm.SetWatchContext("step", &watched_step);
  InitializeParams(spec, cfg.seed, net.params().data());
  comm.Broadcast(net.params().data(), net.layout().size(), 0);
  summary.resumed_from_step = Resume();
  CheckReplicasAgree(comm, net.params(), "at start");

  const bool cls = data.train.is_classification();
  const size_t nparams = net.layout().size();
  float* grads = net.grads().data();
  float* tail = grads + nparams;
  ExchangeOptions exchange_options;
  exchange_options.bucket_floats = static_cast<size_t>(cfg.allreduce_bucket_kb * 1024 / 4);
  exchange_options.bf16 = cfg.grad_wire == "bf16";
  GradientExchange exchange(comm, grads, nparams, kTailSize, exchange_options);
  const DropoutSpec base_dropout{cfg.dropout, cfg.seed, 0, nullptr};
  auto last_checkpoint = Clock::now();
  // A run resumed from the checkpoint written after an early stop (a requeued job reruns the same
  // command) has nothing left to train: the stop is part of the saved state.
  bool stop_early = cfg.early_stop_patience > 0 && pos.position_in_epoch() == 0 &&
                    pos.epochs_without_improvement() >= cfg.early_stop_patience;
  if (stop_early) {
    summary.early_stopped = true;
    Say("early stopping: this run already stopped after epoch %lld; keeping the model of epoch "
        "%lld\n",
        (long long)pos.epoch(), (long long)pos.best_epoch() + 1);
  }

  while (pos.epoch() < cfg.epochs && !stop_early) {
    if (cfg.max_steps > 0 && pos.step() >= cfg.max_steps) break;
    EpochPermutation(cfg.seed, pos.epoch(), &perm);
    progress.StartEpoch(pos.epoch(), cfg.epochs, n, pos.position_in_epoch());
    const auto epoch_start = Clock::now();
    double compute_s = 0.0, comm_s = 0.0;
    int64_t epoch_samples_here = 0;
    while (pos.position_in_epoch() < n) {
      if (cfg.max_steps > 0 && pos.step() >= cfg.max_steps) break;
      const auto t0 = Clock::now();
      const int64_t b = std::min<int64_t>(cfg.batch_size, n - pos.position_in_epoch());
      const ShardRange shard = ShardRange::Of(b, rank, world);
      const size_t* ids = perm.data() + pos.position_in_epoch() + shard.begin;
      const int rows = static_cast<int>(shard.size());
      GatherInputs(data.train, ids, rows, data.transform, cfg.augment, pos.epoch(), x.data());
      GatherTargets(data.train, ids, rows, cls ? labels.data() : nullptr,
                    cls ? nullptr : targets.data());
      DropoutSpec dropout = base_dropout;
      dropout.step = pos.step();
      dropout.sample_ids = ids;
      net.Forward(x.data(), rows, cfg.dropout > 0 ? &dropout : nullptr);
      const BatchStats st =
          net.Loss(rows, cls ? labels.data() : nullptr, cls ? nullptr : targets.data(), true);
      tail[kLossSum] = static_cast<float>(st.loss_sum);
      tail[kCount] = static_cast<float>(st.count);
      tail[kCorrect] = static_cast<float>(st.correct);
      tail[kStopFlag] = StopSignalReceived() ? 1.0f : 0.0f;
      tail[kCheckpointDue] = (rank == 0 && cfg.checkpoint_every_seconds > 0 &&
                              Since(last_checkpoint) >= cfg.checkpoint_every_seconds)
                                 ? 1.0f
                                 : 0.0f;
      watched_step = pos.step();
      // Bucketed: the allreduce of the last layers starts inside Backward.
      net.Backward(x.data(), rows, exchange.sink(), exchange.chunk());
      const auto t1 = Clock::now();
      exchange.Finish();
      const auto t2 = Clock::now();

      const double loss_sum = tail[kLossSum], count = tail[kCount];
      if (count != static_cast<double>(b))
        throw CollectiveError(kExitInternal, "step " + std::to_string(pos.step()) +
                                                 ": the ranks processed " + std::to_string(count) +
                                                 " samples of a batch of " + std::to_string(b));
      const double lr = schedule.At(pos.step());
      bool finite = true;
      opt.Step(net.params().data(), grads, count, lr, &finite);
      // The allreduced sums are identical on every rank, so every rank stops here together. The
      // check rides in the update loop; the parameters it touched are never used or saved.
      if (!finite)
        throw CollectiveError(kExitDiverged,
                              "training diverged at step " + std::to_string(pos.step()) +
                                  ": non-finite gradient in " + NonFiniteLayer() + " (loss " +
                                  std::to_string(loss_sum / count) + "; lower --lr?)");
      if (!std::isfinite(loss_sum))
        throw CollectiveError(kExitDiverged, "training diverged at step " +
                                                 std::to_string(pos.step()) +
                                                 ": the loss is not finite (lower --lr?)");
      pos.set_lr(lr);
      pos.set_step(pos.step() + 1);
      pos.set_position_in_epoch(pos.position_in_epoch() + b);
      pos.set_samples_seen(pos.samples_seen() + b);
      pos.set_epoch_loss_sum(pos.epoch_loss_sum() + loss_sum);
      pos.set_epoch_correct(pos.epoch_correct() + tail[kCorrect]);
      pos.set_epoch_samples(pos.epoch_samples() + b);
      epoch_samples_here += b;
      compute_s += std::chrono::duration<double>(t1 - t0).count() + Since(t2);
      comm_s += std::chrono::duration<double>(t2 - t1).count();
      progress.Update(pos.position_in_epoch(),
                      pos.epoch_loss_sum() / std::max(1.0, pos.epoch_samples()));

      if (tail[kStopFlag] > 0) {
        progress.EndEpoch();
        EnterCheckpointCriticalSection();
        if (cfg.checkpoint_dir.empty())
          throw CollectiveError(kExitPreempted, "stopped by a signal at step " +
                                                    std::to_string(pos.step()) +
                                                    "; no --checkpoint-dir, so nothing was saved");
        WriteCheckpoint();
        throw CollectiveError(kExitPreempted, "stopped by a signal at step " +
                                                  std::to_string(pos.step()) + "; checkpoint " +
                                                  CheckpointPath(cfg.checkpoint_dir, pos.step()) +
                                                  " written: rerun the same command to continue");
      }
      const bool every_steps = cfg.checkpoint_every > 0 && pos.step() % cfg.checkpoint_every == 0;
      if (!cfg.checkpoint_dir.empty() && (every_steps || tail[kCheckpointDue] > 0)) {
        WriteCheckpoint();
        last_checkpoint = Clock::now();
      }
    }
    progress.EndEpoch();
    if (pos.position_in_epoch() < n) break;  // --max-steps ended training inside the epoch

    // Epoch end: evaluation, metrics, early stopping, replica check.
    const double epoch_seconds = Since(epoch_start);
    pb::EpochMetrics m;
    m.set_epoch(pos.epoch() + 1);
    m.set_step(pos.step());
    m.set_lr(pos.lr());
    m.set_world_size(world);
    std::string hosts;  // a flat field: --metrics lines stay one flat JSON object
    for (const std::string& h : comm.Hostnames()) hosts += (hosts.empty() ? "" : ",") + h;
    m.set_rank_hosts(hosts);
    m.set_samples(static_cast<int32_t>(pos.epoch_samples()));
    const double es = std::max(1.0, pos.epoch_samples());
    m.set_train_loss(pos.epoch_loss_sum() / es);
    if (cls) m.set_train_accuracy(pos.epoch_correct() / es);
    m.set_seconds(epoch_seconds);
    m.set_compute_seconds(compute_s);
    m.set_comm_seconds(comm_s);
    m.set_samples_per_sec(epoch_seconds > 0 ? epoch_samples_here / (compute_s + comm_s) : 0.0);
    const EvalResult test = EvaluateSharded(comm, net, data.test, data.transform, x.data(),
                                            labels.data(), targets.data());
    m.set_test_loss(test.loss);
    cls ? m.set_test_accuracy(test.accuracy) : m.set_test_mse(test.mse);
    std::string val_text;
    if (data.val.size > 0) {
      const EvalResult val = EvaluateSharded(comm, net, data.val, data.transform, x.data(),
                                             labels.data(), targets.data());
      m.set_val_loss(val.loss);
      cls ? m.set_val_accuracy(val.accuracy) : m.set_val_mse(val.mse);
      val_text = "  val " + Describe(val);
      if (val.loss < pos.best_val_loss()) {
        pos.set_best_val_loss(val.loss);
        pos.set_best_epoch(pos.epoch());
        pos.set_epochs_without_improvement(0);
        state.best_params = net.params();
        if (!cfg.checkpoint_dir.empty())
          OnRankZero([&] {
            EnsureDirectory(cfg.checkpoint_dir);
            SaveModelFile(BestModelPath(), CurrentModel(net.params()));
          });
      } else {
        pos.set_epochs_without_improvement(pos.epochs_without_improvement() + 1);
        if (cfg.early_stop_patience > 0 &&
            pos.epochs_without_improvement() >= cfg.early_stop_patience) {
          stop_early = true;
          summary.early_stopped = true;
        }
      }
    }
    Say("epoch %lld/%d  step %lld  train loss %.4f  test %s%s  lr %.4g  %.1fk samples/s  "
        "(compute %.2fs, comm %.2fs, world %d)\n",
        (long long)pos.epoch() + 1, cfg.epochs, (long long)pos.step(), m.train_loss(),
        Describe(test).c_str(), val_text.c_str(), pos.lr(), m.samples_per_sec() / 1000, compute_s,
        comm_s, world);
    WriteMetrics(m);
    CheckReplicasAgree(comm, net.params(),
                       "at the end of epoch " + std::to_string(pos.epoch() + 1));
    pos.set_epoch(pos.epoch() + 1);
    pos.set_position_in_epoch(0);
    pos.set_epoch_loss_sum(0);
    pos.set_epoch_correct(0);
    pos.set_epoch_samples(0);
    if (stop_early)
      Say("early stopping: no validation improvement for %d epochs; keeping the model of epoch "
          "%lld\n",
          cfg.early_stop_patience, (long long)pos.best_epoch() + 1);
  }

  if (!cfg.checkpoint_dir.empty()) WriteCheckpoint();
  summary.params = net.params();
  if (cfg.early_stop_patience > 0 && !state.best_params.empty()) {
    summary.params = state.best_params;
    net.params() = state.best_params;
  }
  if (!cfg.save_model_path.empty())
    OnRankZero([&] { SaveModelFile(cfg.save_model_path, CurrentModel(summary.params)); });
  summary.test = EvaluateSharded(comm, net, data.test, data.transform, x.data(), labels.data(),
                                 targets.data());
  summary.steps = pos.step();
  summary.samples_seen = pos.samples_seen();
  if (cls)
    Say("final: test accuracy %.2f%% (%lld samples), test loss %.4f, %lld steps, %lld samples "
        "seen\n",
        100 * summary.test.accuracy, (long long)summary.test.count, summary.test.loss,
        (long long)summary.steps, (long long)summary.samples_seen);
  else
    Say("final: test mse %.6f (%lld samples), test loss %.6f, %lld steps, %lld samples seen\n",
        summary.test.mse, (long long)summary.test.count, summary.test.loss,
        (long long)summary.steps, (long long)summary.samples_seen);
  return summary;
}

Trainer::Trainer(Communicator& comm, const ModelSpec& spec, const TrainData& data,
                 const TrainConfig& config)
    : impl_(std::make_unique<Impl>(comm, spec, data, config)) {}
Trainer::~Trainer() = default;
TrainSummary Trainer::Run() { return impl_->Run(); }

}  // namespace dpmlp
