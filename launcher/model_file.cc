#include "launcher/model_file.h"

#include <algorithm>

#include "core/error.h"
#include "dist/checkpoint_state.h"
#include "launcher/data_setup.h"
#include "proto/framed_file.h"

namespace dpmlp {

po::options_description ModelFileOptions(std::string* model, std::string* checkpoint) {
  po::options_description d("Model file");
  d.add_options()("model", po::value(model), "a model file written by --save-model")(
      "checkpoint", po::value(checkpoint), "a training checkpoint (its model is used)");
  return d;
}

ModelData LoadModelChoice(const std::string& model, const std::string& checkpoint) {
  if (!model.empty() && !checkpoint.empty())
    throw UsageError("give --model or --checkpoint, not both");
  if (model.empty() && checkpoint.empty())
    throw UsageError("--model FILE or --checkpoint FILE is required");
  if (model.empty()) return LoadModelFile(checkpoint, FramedKind::kCheckpoint);
  return LoadModelFile(model, FramedKind::kModel);
}

ModelData LoadInitModel(const std::string& path, const ModelSpec& built) {
  ModelData m;
  try {
    // A file far larger than a checkpoint of `built` is refused from its header alone.
    std::string payload;
    const FramedKind kind =
        ReadFramedFileOfAnyKind(path, &payload, MaxCheckpointPayloadBytes(built));
    m = ModelFromPayload(kind, payload, path);
  } catch (const Error& e) {
    throw UsageError("--init-from " + std::string(e.what()));
  }
  // "layers 784-32-10, but the options build 784-64-10; activation relu, but the options build
  // tanh (--activation)"
  std::string differences;
  for (const SpecDifference& d : ArchitectureDifferences(m.spec, built)) {
    std::string what = d.field == "widths" ? "layers" : d.field;
    std::replace(what.begin(), what.end(), '_', ' ');
    differences += (differences.empty() ? "" : "; ") + what + " " + d.file +
                   ", but the options build " + d.built +
                   (d.field == "widths" ? "" : " (" + OptionOfSpecField(d.field) + ")");
  }
  if (!differences.empty()) throw UsageError("--init-from " + path + ": " + differences);
  return m;
}

void CheckDataFitsModel(const Dataset& d, const ModelSpec& spec) {
  if (static_cast<int>(d.input_dim) != spec.input_dim)
    throw UsageError(d.source + ": " + std::to_string(d.input_dim) +
                     " inputs per sample, the model takes " + std::to_string(spec.input_dim));
  // A regression model's outputs are not class scores (and a classifier's are not targets):
  // scoring one on the other kind of data would print a meaningless accuracy or mse.
  const bool regression_model = spec.output == OutputKind::kIdentity;
  if (d.is_classification() == regression_model)
    throw UsageError(d.source + ": " +
                     (regression_model
                          ? "the data have class labels, but the model is a regression model "
                            "(identity output): give data with regression targets (--csv-targets)"
                          : std::string("the data are regression targets, but the model is a "
                                        "classifier (") +
                                Name(spec.output) + " output)"));
  // Labels index the outputs (one sigmoid output reads labels 0 and 1); targets must match them.
  const bool fits =
      d.is_classification()
          ? (spec.output_dim == 1 ? d.num_classes <= 2 : d.num_classes <= spec.output_dim)
          : static_cast<int>(d.target_dim) == spec.output_dim;
  if (!fits)
    throw UsageError(d.source + ": " +
                     (d.is_classification()
                          ? std::to_string(d.num_classes) + " classes"
                          : std::to_string(d.target_dim) + " regression targets") +
                     ", the model has " + std::to_string(spec.output_dim) + " outputs");
}

}  // namespace dpmlp
