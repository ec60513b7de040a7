// Checkpoints, resume, per-epoch metrics and weight averaging of the training loop.
#include <google/protobuf/util/json_util.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/atomic_file.h"
#include "dist/metrics_file.h"
#include "dist/rank_zero.h"
#include "dist/trainer_impl.h"
#include "proto/checkpoint_dir.h"
#include "proto/framed_file.h"

namespace dpmlp {

using trainer_internal::Since;

void Trainer::Impl::OnRankZero(const std::function<void()>& write) {
  RankZeroActs(comm, [&] {
    try {
      write();
    } catch (const Error& e) {
      if (e.code() == kExitUsage) throw;
      throw IoError(e.what());  // a write that failed otherwise: exit 4, earlier files intact
    }
    return std::string();
  });
}

void Trainer::Impl::Output(const std::function<void()>& write) {
  try {
    write();
  } catch (const CollectiveError& e) {
    if (e.code() != kExitIo) throw;
    const std::string what = e.what();
    if (std::find(output_failures.begin(), output_failures.end(), what) == output_failures.end())
      output_failures.push_back(what);
  }
}

void Trainer::Impl::OpenRunFiles() {
  OnRankZero([&] {
    if (!cfg.checkpoint_dir.empty()) {
      lock = std::make_unique<CheckpointDirLock>(cfg.checkpoint_dir);
      if (!lock->warning().empty()) Say("warning: %s\n", lock->warning().c_str());
      auto check = [this](const std::string& path, const std::string& payload) {
        const ModelData m = ModelFromProto(ParseCheckpoint(payload, path).model(), path);
        if (!SpecMismatches(m.spec, spec).empty())
          throw UsageError(path + ": a checkpoint of another model");
      };
      pruner = std::make_unique<CheckpointPruner>(
          cfg.checkpoint_dir, cfg.keep, check,
          [this](const std::string& w) { Say("warning: %s\n", w.c_str()); },
          MaxCheckpointPayloadBytes(spec));
    }
    if (!cfg.metrics_path.empty()) {
      const uint64_t dropped = DropPartialLastLine(cfg.metrics_path);
      if (dropped > 0)
        Say("metrics %s: removed a partial last line (%llu bytes) left by an interrupted "
            "write\n",
            cfg.metrics_path.c_str(), (unsigned long long)dropped);
    }
  });
}

void Trainer::Impl::WriteCheckpoint() {
  for (float v : net.params())
    if (!std::isfinite(v))
      throw CollectiveError(kExitDiverged,
                            "step " + std::to_string(pos.step) +
                                ": parameters are not finite; no checkpoint written");
  state.velocity = opt.velocity();
  OnRankZero([&] {
    const auto t0 = Clock::now();
    EnsureDirectory(cfg.checkpoint_dir);
    std::string bytes;
    MakeCheckpoint(CurrentModel(net.params()), cfg, state, comm.size()).SerializeToString(&bytes);
    const std::string path = CheckpointPath(cfg.checkpoint_dir, pos.step);
    WriteFramedFile(path, FramedKind::kCheckpoint, bytes);  // durable when it returns
    pruner->Prune(pos.step);
    Say("checkpoint %s (%.1f MB, %.1f ms)\n", path.c_str(), bytes.size() / 1e6, 1000 * Since(t0));
  });
}

// Rank 0: the checkpoint --resume names or, for auto, the newest valid one in --checkpoint-dir,
// as its path, a NUL and its payload; "" when there is none to resume from.
std::string Trainer::Impl::FindCheckpoint() {
  if (cfg.resume != "auto") {
    const std::string payload =
        ReadFramedFile(cfg.resume, FramedKind::kCheckpoint, MaxCheckpointPayloadBytes(spec));
    ParseCheckpoint(payload, cfg.resume);
    return cfg.resume + '\0' + payload;
  }
  CheckpointEntry found;
  std::string payload;
  const bool ok = FindNewestValid(
      cfg.checkpoint_dir,
      [&](const std::string& path, const std::string& p) {
        ParseCheckpoint(p, path);
        payload = p;
      },
      [&](const std::string& w) { Say("warning: %s\n", w.c_str()); }, &found,
      MaxCheckpointPayloadBytes(spec));
  const size_t named = ok ? 0 : ListCheckpoints(cfg.checkpoint_dir).size();
  if (named > 0 && !cfg.fresh_start_ok)
    throw UsageError("--resume auto: none of the " + std::to_string(named) +
                     " checkpoint file(s) in " + cfg.checkpoint_dir +
                     " is valid (see the warnings): not starting fresh over them; fix or "
                     "remove them, or add --fresh-start-ok to start from scratch");
  return ok ? found.path + '\0' + payload : "";
}

int64_t Trainer::Impl::Resume() {
  if (cfg.resume == "none" || (cfg.resume == "auto" && cfg.checkpoint_dir.empty())) return -1;
  // Rank 0 finds and reads the file; the bytes (or the error) go to every rank.
  const std::string found = RankZeroActs(comm, [&] { return FindCheckpoint(); });
  if (found.empty()) {
    Say("no checkpoint in %s: starting fresh\n", cfg.checkpoint_dir.c_str());
    return -1;
  }
  const size_t nul = found.find('\0');
  const std::string path = found.substr(0, nul);
  const auto t0 = Clock::now();
  const pb::Checkpoint ck = ParseCheckpoint(found.substr(nul + 1), path);
  CheckResumable(ck, path);
  RestoreState(ck, path);
  Say("resumed from %s at step %lld (epoch %lld, %lld samples into it; saved by %d rank(s); "
      "parsed in %.1f ms)\n",
      path.c_str(), (long long)pos.step, (long long)pos.epoch + 1, (long long)pos.position_in_epoch,
      ck.world_size(), 1000 * Since(t0));
  return pos.step;
}

// Every rank, on the same bytes: the checkpoint's model must be the requested one, the options
// that cannot change have not, and the seed only with --allow-seed-change. Says what changes.
void Trainer::Impl::CheckResumable(const pb::Checkpoint& ck, const std::string& path) {
  const auto refuse = [&](const std::string& why, const std::vector<std::string>& items) {
    std::string all;
    for (const auto& s : items) all += "\n  " + s;
    if (!items.empty()) throw CollectiveError(kExitUsage, path + ": " + why + all);
  };
  const ModelData m = ModelFromProto(ck.model(), path);
  refuse("the checkpoint's model differs from the requested one:", SpecMismatches(m.spec, spec));
  refuse("cannot resume with these options changed (the weights assume the checkpoint's values):",
         RefusedChanges(ck.options(), cfg));
  // The seed picks every epoch's order, dropout masks and augmentation: a new one mid-run
  // silently changes the rest of training.
  if (ck.seed() != cfg.seed) {
    const std::string both =
        "--seed " + std::to_string(cfg.seed) + " (checkpoint: " + std::to_string(ck.seed()) + ")";
    if (!cfg.allow_seed_change)
      throw CollectiveError(kExitUsage,
                            path + ": the checkpoint was written with another seed: " + both +
                                "; rerun with --seed " + std::to_string(ck.seed()) +
                                ", or add --allow-seed-change to continue with the new one");
    Say("resume: using new value %s (--allow-seed-change)\n", both.c_str());
  }
  for (const std::string& change : OptionChanges(ck.options(), cfg))
    Say("resume: using new value %s\n", change.c_str());
  if (!cfg.init_from.empty())
    Say("resume: --init-from %s not applied (the checkpoint's state wins)\n",
        cfg.init_from.c_str());
  if (m.spec.init != spec.init)
    Say("resume: --init %s has no effect (the weights come from the checkpoint)\n",
        Name(spec.init));
}

// Parameters, velocity, position, the running average, the best model (read by rank 0 from
// best.pb) and the metrics file cut back to the checkpoint's epoch.
void Trainer::Impl::RestoreState(const pb::Checkpoint& ck, const std::string& path) {
  const ModelData m = ModelFromProto(ck.model(), path);
  net.params() = m.params;
  transform = m.transform;  // the weights were trained on inputs mapped this way
  opt.velocity() = TensorsToFlat(spec, ck.velocity(), path);
  pos = PositionFromProto(ck.position());
  state.average.clear();
  if (pos.average_count > 0) state.average = TensorsToFlat(spec, ck.average(), path);
  if (pos.position_in_epoch > static_cast<int64_t>(data.train.size))
    throw CollectiveError(kExitUsage,
                          path + ": position in epoch " + std::to_string(pos.position_in_epoch) +
                              " is beyond the training set (" + std::to_string(data.train.size) +
                              " samples): was it written for other data?");
  if (cfg.early_stop_patience > 0 && pos.best_epoch >= 0) {
    const std::string best =
        RankZeroActs(comm, [&] { return ReadFramedFile(BestModelPath(), FramedKind::kModel); });
    state.best_params = ModelFromPayload(FramedKind::kModel, best, BestModelPath()).params;
  }
  if (!cfg.metrics_path.empty()) {
    int dropped = 0;
    OnRankZero([&] { dropped = DropMetricsAfterEpoch(cfg.metrics_path, pos.epoch); });
    if (dropped > 0)
      Say("resume: removed %d line(s) past epoch %lld from %s (the interrupted attempt's)\n",
          dropped, (long long)pos.epoch, cfg.metrics_path.c_str());
  }
}

std::string Trainer::Impl::NonFiniteLayer() const {
  const auto& g = grads;
  for (size_t l = 0; l < net.layout().layers().size(); ++l) {
    const LayerSlot& s = net.layout().layers()[l];
    for (size_t i = s.weight_offset; i < s.bias_offset + s.pre; ++i)
      if (!std::isfinite(g[i]))
        return i < s.bias_offset ? ParamLayout::WeightName(l) : ParamLayout::BiasName(l);
  }
  return "?";
}

void Trainer::Impl::WriteMetrics(const pb::EpochMetrics& m) {
  if (cfg.metrics_path.empty()) return;
  OnRankZero([&] {
    std::string line;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    google::protobuf::util::MessageToJsonString(m, &line, o);
    line += '\n';
    AppendRecord(cfg.metrics_path, line);  // the whole line or nothing
  });
}

void Trainer::Impl::UpdateAverage() {
  if (cfg.average_epochs <= 0 || pos.epoch < cfg.epochs - cfg.average_epochs) return;
  const std::vector<float>& p = net.params();
  if (state.average.size() != p.size()) state.average.assign(p.size(), 0.0f);
  pos.average_count = pos.average_count + 1;
  UpdateRunningMean(p.data(), p.size(), pos.average_count, state.average.data());
}

std::string Trainer::Impl::EvaluateAverage(pb::EpochMetrics* m) {
  if (pos.average_count == 0) return "";
  const bool cls = data.test.is_classification();
  std::swap(net.params(), state.average);
  const EvalResult t = EvaluateSharded(comm, net, data.test, transform);
  m->set_avg_test_loss(t.loss);
  cls ? m->set_avg_test_accuracy(t.accuracy) : m->set_avg_test_mse(t.mse);
  std::string text = "  avg test " + Describe(t);
  if (data.val.size > 0) {
    const EvalResult v = EvaluateSharded(comm, net, data.val, transform);
    m->set_avg_val_loss(v.loss);
    cls ? m->set_avg_val_accuracy(v.accuracy) : m->set_avg_val_mse(v.mse);
    text += "  avg val " + Describe(v);
  }
  std::swap(net.params(), state.average);
  return text;
}

}  // namespace dpmlp
