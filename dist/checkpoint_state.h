// The training checkpoint: building it from the live state, reading it back, and naming how a
// checkpoint's model differs from the one the user asked for.
#pragma once

#include <string>
#include <vector>

#include "dist/train_config.h"
#include "dpmlp.pb.h"
#include "proto/model_codec.h"

namespace dpmlp {

constexpr uint32_t kCheckpointFormatVersion = 1;

pb::TrainOptions OptionsToProto(const TrainConfig& c);

// Everything besides the model that a checkpoint carries.
struct TrainingState {
  pb::TrainingPosition position;
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
// "--epochs 20 (checkpoint: 10)": the run uses the new values and says so.
std::vector<std::string> OptionChanges(const pb::TrainOptions& checkpoint,
                                       const TrainConfig& requested);

// Options a resumed run cannot change, as OptionChanges names them: --normalize (the weights were
// trained on inputs mapped the checkpoint's way). Empty when there is none.
std::vector<std::string> RefusedChanges(const pb::TrainOptions& checkpoint,
                                        const TrainConfig& requested);

}  // namespace dpmlp
