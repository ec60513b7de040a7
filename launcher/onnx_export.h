// `dpmlp export --format onnx`: a model as an ONNX graph (IR version 8, opset 17).
#pragma once

#include <string>

#include "proto/model_codec.h"

namespace dpmlp {

// The ONNX ModelProto bytes of m: input "input" [N, input_dim] of raw (unnormalised) features,
// output "output" [N, output_dim] as the model's output activation gives it (what `predict`
// prints).
std::string OnnxModelBytes(const ModelData& m);

}  // namespace dpmlp
