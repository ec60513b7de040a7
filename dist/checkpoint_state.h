// The training checkpoint: building it from the live state, reading it back, and naming how a
// checkpoint's model differs from the one the user asked for.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "dist/train_config.h"
#include "dpmlp.pb.h"
#include "proto/model_codec.h"

namespace dpmlp {

constexpr uint32_t kCheckpointFormatVersion = 1;

pb::TrainOptions OptionsToProto(const TrainConfig& c);

// Where training stands: what the loop updates every step, as plain fields. It becomes
// pb::TrainingPosition only when a checkpoint is written (PositionToProto) or read back.
struct TrainingPosition {
  int64_t step = 0;               // optimizer steps completed
  int64_t epoch = 0;              // current epoch (0-based)
  int64_t position_in_epoch = 0;  // samples of this epoch already consumed
  int64_t samples_seen = 0;
  double lr = 0.0;  // learning rate of the last step
  // Early stopping.
  double best_val_loss = INFINITY;
  int64_t best_epoch = -1;
  int32_t epochs_without_improvement = 0;
  double elapsed_seconds = 0.0;
  // Running sums of the current epoch's training loss, so its metrics survive a resume.
  double epoch_loss_sum = 0.0, epoch_correct = 0.0, epoch_samples = 0.0;
  int64_t average_count = 0;  // steps folded into TrainingState::average
};

pb::TrainingPosition PositionToProto(const TrainingPosition& p);
TrainingPosition PositionFromProto(const pb::TrainingPosition& p);

// Everything besides the model that a checkpoint carries.
struct TrainingState {
  TrainingPosition position;
  std::vector<float> velocity;
  std::vector<float> best_params;  // early stopping: the best model so far (may be empty)
  std::vector<float> average;      // --average-epochs: mean of position.average_count steps
};

// This process's BLAS (QueryBlas() and OPENBLAS_CORETYPE) as the checkpoint records it.
pb::BlasInfo CurrentBlasProto();

pb::Checkpoint MakeCheckpoint(const ModelData& model, const TrainConfig& config,
                              const TrainingState& state, int world_size);

// Parses and validates a checkpoint payload; throws UsageError naming `source`.
pb::Checkpoint ParseCheckpoint(const std::string& payload, const std::string& source);

// A generous upper bound on the payload of a checkpoint of `spec` (16 times its parameters,
// velocity, normalisation, names and options, plus 64 MiB). A file that declares more is not a
// checkpoint of this run, and is rejected from its header alone without reading it.
uint64_t MaxCheckpointPayloadBytes(const ModelSpec& spec);

// Each field of the model spec that differs, as "--layers: checkpoint 16,16, requested 32". The
// init scheme is not compared: a resumed run takes its weights from the checkpoint.
std::vector<std::string> SpecMismatches(const ModelSpec& checkpoint, const ModelSpec& requested);

// Training options whose requested value differs from the checkpoint's, as
// "--epochs 20 (checkpoint: 10)": the run uses the new values and says so. --init-from is left
// out: a resumed run never applies it.
std::vector<std::string> OptionChanges(const pb::TrainOptions& checkpoint,
                                       const TrainConfig& requested);

// Options a resumed run cannot change, as OptionChanges names them: --normalize (the weights were
// trained on inputs mapped the checkpoint's way). Empty when there is none.
std::vector<std::string> RefusedChanges(const pb::TrainOptions& checkpoint,
                                        const TrainConfig& requested);

}  // namespace dpmlp
