// The training loop's files and state besides the step: the run files, resume, per-epoch
// metrics and weight averaging (the checkpoint directory itself is dist/checkpointer).
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
  checkpoints.Open();
  if (cfg.metrics_path.empty()) return;
  RankZeroWrites(comm, [&] {
    const uint64_t dropped = DropPartialLastLine(cfg.metrics_path);
    if (dropped > 0)
      Say("metrics %s: removed a partial last line (%llu bytes) left by an interrupted write\n",
          cfg.metrics_path.c_str(), (unsigned long long)dropped);
  });
}

std::string Trainer::Impl::WriteCheckpoint() {
  state.velocity = exchange.WholeVelocity(opt);  // also completes a pending parameter gather
  return checkpoints.Write(CurrentModel(net.params()), state, pos.step);
}

int64_t Trainer::Impl::Resume() {
  const std::optional<Checkpointer::Loaded> found = checkpoints.Load();
  if (!found) return -1;
  const pb::Checkpoint& ck = found->checkpoint;
  RestoreState(ck, found->path);
  Say("resumed from %s at step %lld (epoch %lld, %lld samples into it; saved by %d rank(s); "
      "parsed in %.1f ms)\n",
      found->path.c_str(), (long long)pos.step, (long long)pos.epoch + 1,
      (long long)pos.position_in_epoch, ck.world_size(), 1000 * found->parse_seconds);
  return pos.step;
}

// Parameters, velocity, position, the running average, the best model (read by rank 0 from
// best.pb) and the metrics file cut back to the checkpoint's epoch.
void Trainer::Impl::RestoreState(const pb::Checkpoint& ck, const std::string& path) {
  const ModelData m = ModelFromProto(ck.model(), path);
  net.params() = m.params;
  transform = m.transform;  // the weights were trained on inputs mapped this way
  opt.SetVelocityFromWhole(TensorsToFlat(spec, ck.velocity(), path));
  pos = PositionFromProto(ck.position());
  state.average.clear();
  if (pos.average_count > 0) state.average = TensorsToFlat(spec, ck.average(), path);
  if (pos.position_in_epoch > static_cast<int64_t>(data.train.size))
    throw CollectiveError(kExitUsage,
                          path + ": position in epoch " + std::to_string(pos.position_in_epoch) +
                              " is beyond the training set (" + std::to_string(data.train.size) +
                              " samples): was it written for other data?");
  if (cfg.early_stop_patience > 0 && pos.best_epoch >= 0)
    state.best_params = checkpoints.ReadBest();
  if (!cfg.metrics_path.empty()) {
    int dropped = 0;
    RankZeroWrites(comm, [&] { dropped = DropMetricsAfterEpoch(cfg.metrics_path, pos.epoch); });
    if (dropped > 0)
      Say("resume: removed %d line(s) past epoch %lld from %s (the interrupted attempt's)\n",
          dropped, (long long)pos.epoch, cfg.metrics_path.c_str());
  }
}

std::string Trainer::Impl::NonFiniteLayer() {
  const size_t i = exchange.FirstNonFinite();
  for (size_t l = 0; l < net.layout().layers().size(); ++l) {
    const LayerSlot& s = net.layout().layers()[l];
    if (i >= s.weight_offset && i < s.bias_offset + s.pre)
      return i < s.bias_offset ? ParamLayout::WeightName(l) : ParamLayout::BiasName(l);
  }
  return "?";
}

void Trainer::Impl::WriteMetrics(const pb::EpochMetrics& m) {
  if (cfg.metrics_path.empty()) return;
  RankZeroWrites(comm, [&] {
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
  exchange.CompleteParams();
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
