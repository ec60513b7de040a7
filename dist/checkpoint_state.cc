#include "dist/checkpoint_state.h"

#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

#include "core/blas_info.h"
#include "core/error.h"

namespace dpmlp {

pb::TrainingPosition PositionToProto(const TrainingPosition& p) {
  pb::TrainingPosition o;
  o.set_step(p.step);
  o.set_epoch(p.epoch);
  o.set_position_in_epoch(p.position_in_epoch);
  o.set_samples_seen(p.samples_seen);
  o.set_lr(p.lr);
  o.set_best_val_loss(p.best_val_loss);
  o.set_best_epoch(p.best_epoch);
  o.set_epochs_without_improvement(p.epochs_without_improvement);
  o.set_elapsed_seconds(p.elapsed_seconds);
  o.set_epoch_loss_sum(p.epoch_loss_sum);
  o.set_epoch_correct(p.epoch_correct);
  o.set_epoch_samples(p.epoch_samples);
  o.set_average_count(p.average_count);
  return o;
}

TrainingPosition PositionFromProto(const pb::TrainingPosition& o) {
  TrainingPosition p;
  p.step = o.step();
  p.epoch = o.epoch();
  p.position_in_epoch = o.position_in_epoch();
  p.samples_seen = o.samples_seen();
  p.lr = o.lr();
  p.best_val_loss = o.best_val_loss();
  p.best_epoch = o.best_epoch();
  p.epochs_without_improvement = o.epochs_without_improvement();
  p.elapsed_seconds = o.elapsed_seconds();
  p.epoch_loss_sum = o.epoch_loss_sum();
  p.epoch_correct = o.epoch_correct();
  p.epoch_samples = o.epoch_samples();
  p.average_count = o.average_count();
  return p;
}

pb::TrainOptions OptionsToProto(const TrainConfig& c) {
  pb::TrainOptions o;
  o.set_batch_size(c.batch_size);
  o.set_lr(c.lr);
  o.set_momentum(c.sgd.momentum);
  o.set_nesterov(c.sgd.nesterov);
  o.set_epochs(c.epochs);
  o.set_max_steps(c.max_steps);
  o.set_weight_decay(c.sgd.weight_decay);
  o.set_l1(c.sgd.l1);
  o.set_decay_biases(c.sgd.decay_biases);
  o.set_dropout(c.dropout);
  o.set_max_norm(c.sgd.max_norm);
  o.set_clip_norm(c.sgd.clip_norm);
  o.set_lr_schedule(LrSchedule::Name(c.lr_schedule));
  o.set_lr_gamma(c.lr_gamma);
  o.set_lr_step_epochs(c.lr_step_epochs);
  o.set_warmup_epochs(c.warmup_epochs);
  o.set_val_fraction(c.val_fraction);
  o.set_early_stop_patience(c.early_stop_patience);
  o.set_augment(c.augment.enabled);
  o.set_augment_shift(c.augment.max_shift);
  o.set_augment_rotate(c.augment.max_rotate_deg);
  o.set_dataset(c.dataset);
  o.set_data_dir(c.data_dir);
  o.set_train_csv(c.train_csv);
  o.set_test_csv(c.test_csv);
  o.set_csv_targets(c.csv_targets);
  o.set_normalize(c.normalize);
  o.set_min_lr(c.min_lr);
  o.set_train_samples(c.train_samples);
  o.set_test_samples(c.test_samples);
  o.set_grad_wire(c.grad_wire);
  o.set_allreduce(c.allreduce);
  o.set_update(c.update);
  o.set_overlap_gather(c.overlap_gather);
  o.set_augment_flip(c.augment.flip);
  o.set_erase_prob(c.augment.erase_prob);
  o.set_erase_max_area(c.augment.erase_max_area);
  o.set_input_dropout(c.input_dropout);
  o.set_label_smoothing(c.label_smoothing);
  o.set_average_epochs(c.average_epochs);
  o.set_train_npy(c.train_npy);
  o.set_train_labels(c.train_labels);
  o.set_test_npy(c.test_npy);
  o.set_test_labels(c.test_labels);
  o.set_val_npy(c.val_npy);
  o.set_val_labels(c.val_labels);
  o.set_init_from(c.init_from);
  o.set_csv_header(c.csv_header);
  return o;
}

pb::BlasInfo CurrentBlasProto() {
  const BlasInfo blas = QueryBlas();
  pb::BlasInfo b;
  b.set_config(blas.config);
  b.set_core(blas.core);
  b.set_threads(blas.threads);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  b.set_coretype_env(coretype ? coretype : "");
  return b;
}

pb::Checkpoint MakeCheckpoint(const ModelData& model, const TrainConfig& config,
                              const TrainingState& state, int world_size) {
  pb::Checkpoint ck;
  ck.set_format_version(kCheckpointFormatVersion);
  *ck.mutable_model() = ModelToProto(model);
  *ck.mutable_options() = OptionsToProto(config);
  *ck.mutable_position() = PositionToProto(state.position);
  FlatToTensors(model.spec, state.velocity, ck.mutable_velocity());
  if (!state.average.empty()) FlatToTensors(model.spec, state.average, ck.mutable_average());
  ck.set_seed(config.seed);
  ck.set_world_size(world_size);
  ck.set_momentum_form(config.sgd.nesterov ? "nesterov" : "classical");
  ck.set_created_unix(static_cast<int64_t>(std::time(nullptr)));
  *ck.mutable_blas() = CurrentBlasProto();
  return ck;
}

pb::Checkpoint ParseCheckpoint(const std::string& payload, const std::string& source) {
  pb::Checkpoint ck;
  if (!ck.ParseFromString(payload)) throw UsageError(source + ": not a valid checkpoint message");
  if (ck.format_version() != kCheckpointFormatVersion)
    throw UsageError(source + ": unsupported checkpoint format version " +
                     std::to_string(ck.format_version()));
  const ModelData m = ModelFromProto(ck.model(), source);  // validates spec and parameters
  TensorsToFlat(m.spec, ck.velocity(), source + " (velocity)");
  if (ck.position().average_count() > 0)
    TensorsToFlat(m.spec, ck.average(), source + " (parameter average)");
  const pb::TrainingPosition& p = ck.position();
  if (p.step() < 0 || p.epoch() < 0 || p.position_in_epoch() < 0 || p.samples_seen() < 0 ||
      p.average_count() < 0)
    throw UsageError(source + ": negative training position");
  return ck;
}

uint64_t MaxCheckpointPayloadBytes(const ModelSpec& spec) {
  const uint64_t floats =
      2 * static_cast<uint64_t>(spec.parameter_count()) + 2 * static_cast<uint64_t>(spec.input_dim);
  // 4 bytes a float, plus per tensor a name, a shape and the packed-field headers, plus options
  // (paths) and position. Then 16 times that and 64 MiB more, so that a checkpoint of a somewhat
  // larger model is still read and named by SpecMismatches; only an absurd file is cut off here.
  const uint64_t need = 4 * floats + 256 * (4 * (spec.hidden.size() + 1) + 4) + (uint64_t{1} << 20);
  return 16 * need + (uint64_t{64} << 20);
}

namespace {

std::string Widths(const std::vector<int>& w) {
  std::string s;
  for (size_t i = 0; i < w.size(); ++i) s += (i ? "," : "") + std::to_string(w[i]);
  return s.empty() ? "(none)" : s;
}

template <typename V>
std::string Str(const V& v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

std::vector<std::string> SpecMismatches(const ModelSpec& a, const ModelSpec& b) {
  std::vector<std::string> out;
  auto diff = [&](const char* option, const std::string& x, const std::string& y) {
    if (x != y) out.push_back(std::string(option) + ": checkpoint " + x + ", requested " + y);
  };
  diff("input width", Str(a.input_dim), Str(b.input_dim));
  diff("--layers", Widths(a.hidden), Widths(b.hidden));
  diff("output width", Str(a.output_dim), Str(b.output_dim));
  diff("--activation", Name(a.activation), Name(b.activation));
  if (a.activation == ActKind::kSigmoid) diff("--sigmoid-k", Str(a.sigmoid_k), Str(b.sigmoid_k));
  if (a.activation == ActKind::kLeakyRelu || a.activation == ActKind::kElu)
    diff("--alpha", Str(a.alpha), Str(b.alpha));
  if (a.activation == ActKind::kMaxout)
    diff("--maxout-pieces", Str(a.maxout_pieces), Str(b.maxout_pieces));
  diff("--output", Name(a.output), Name(b.output));
  diff("--loss", Name(a.loss), Name(b.loss));
  return out;
}

std::vector<std::string> OptionChanges(const pb::TrainOptions& written,
                                       const TrainConfig& requested) {
  const pb::TrainOptions now = OptionsToProto(requested);
  // Fields a checkpoint written before they existed leaves empty: it ran with their defaults.
  pb::TrainOptions ck = written;
  const TrainConfig defaults;
  if (ck.grad_wire().empty()) ck.set_grad_wire(defaults.grad_wire);
  if (ck.allreduce().empty()) ck.set_allreduce(defaults.allreduce);
  if (ck.update().empty()) ck.set_update(defaults.update);
  std::vector<std::string> out;
  const auto* desc = pb::TrainOptions::descriptor();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (f->name() == "init_from") continue;  // not applied to a resumed run, which says so
    std::string a, b;
    google::protobuf::TextFormat::PrintFieldValueToString(ck, f, -1, &a);
    google::protobuf::TextFormat::PrintFieldValueToString(now, f, -1, &b);
    if (a != b) {
      std::string name = f->name();
      for (char& c : name)
        if (c == '_') c = '-';
      out.push_back("--" + name + " " + b + " (checkpoint: " + a + ")");
    }
  }
  return out;
}

std::vector<std::string> RefusedChanges(const pb::TrainOptions& ck, const TrainConfig& requested) {
  std::vector<std::string> out;
  const std::string was = ResolveNormalization(ck.normalize(), ck.dataset(), ck.data_dir(),
                                               ck.train_csv(), ck.train_npy());
  const std::string now =
      ResolveNormalization(requested.normalize, requested.dataset, requested.data_dir,
                           requested.train_csv, requested.train_npy);
  if (was != now)
    out.push_back("--normalize " + requested.normalize + " (" + now +
                  "; checkpoint: " + ck.normalize() + ", " + was + ")");
  return out;
}

}  // namespace dpmlp
