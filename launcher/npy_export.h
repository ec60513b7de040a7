// `dpmlp export --format npy`: one .npy file per tensor and index.json (docs/export.md).
#pragma once

#include <string>

#include "proto/model_codec.h"

namespace dpmlp {

// Writes layerN.weight.npy, layerN.bias.npy and index.json into out_dir (created when missing),
// each file atomically; returns the number of tensors written. Throws IoError naming the path.
int WriteNpyExport(const ModelData& model, const std::string& out_dir);

// The index.json text for model (protobuf's JSON printer over pb::NpyExportIndex).
std::string NpyExportIndexJson(const ModelData& model);

}  // namespace dpmlp
