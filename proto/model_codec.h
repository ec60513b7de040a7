// Conversions between the in-memory model (spec, input transform, flat parameters) and the
// protobuf messages in dpmlp.proto, and the model file written by --save-model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/model_spec.h"
#include "dpmlp.pb.h"
#include "proto/framed_file.h"

namespace dpmlp {

constexpr uint32_t kModelFormatVersion = 1;

// A model as held in memory: what --save-model writes and eval/predict/export/inspect read.
struct ModelData {
  ModelSpec spec;
  InputTransform transform;  // per-feature normalisation of raw inputs
  int image_height = 0, image_width = 0;
  std::vector<float> params;  // flat, in ParamLayout(spec) order
};

pb::ModelSpec SpecToProto(const ModelSpec& spec);
// Validates everything; throws UsageError starting with `source` (the file) on a bad spec.
ModelSpec SpecFromProto(const pb::ModelSpec& p, const std::string& source);

// Per-layer tensors named layerN.weight (pre x in) and layerN.bias from a flat buffer.
void FlatToTensors(const ModelSpec& spec, const std::vector<float>& flat,
                   google::protobuf::RepeatedPtrField<pb::Tensor>* out);
// Checks every name and shape against the spec; throws UsageError naming `source` and the tensor.
std::vector<float> TensorsToFlat(const ModelSpec& spec,
                                 const google::protobuf::RepeatedPtrField<pb::Tensor>& tensors,
                                 const std::string& source);

pb::Model ModelToProto(const ModelData& m);
ModelData ModelFromProto(const pb::Model& p, const std::string& source);

// Framed, atomically written model file; throws IoError on failure.
void SaveModelFile(const std::string& path, const ModelData& m);
// The model of a payload read from `path`: a Model message, or a Checkpoint's model.
ModelData ModelFromPayload(FramedKind kind, const std::string& payload, const std::string& path);
// Reads a model file, or the model inside a checkpoint file, once; with `expected`, a file of the
// other kind is rejected by name. Throws UsageError naming the path.
ModelData LoadModelFile(const std::string& path, std::optional<FramedKind> expected = {});

}  // namespace dpmlp
