// What `dpmlp inspect` and `dpmlp plot` read: a model file or checkpoint, one split of a data set,
// and a hidden neuron named on the command line.
#pragma once

#include <string>

#include "core/dataset.h"
#include "dist/train_config.h"
#include "launcher/options.h"
#include "proto/model_codec.h"

namespace dpmlp {

struct InspectInputs {
  std::string model_path, checkpoint_path;
  std::string split = "test";  // test | train
  TrainConfig data;            // the data options
};

// --model, --checkpoint and --split, bound to `in`; add DataOptions(&in->data) beside them.
po::options_description InspectInputOptions(InspectInputs* in);

// Loads the model named by exactly one of --model and --checkpoint (each file's kind must match
// its option). Throws UsageError naming the option or file.
ModelData LoadInspectedModel(const InspectInputs& in);

// Loads the data set and returns the chosen split, checked against the model's input and output
// widths. Throws UsageError naming the option or the data source.
Dataset LoadInspectedSplit(const InspectInputs& in, const ModelSpec& spec);

// A hidden neuron as "L:U" (hidden layer L counted from 1, as in layerL.weight; unit U counted
// from 0, its row of that matrix) or "U" for layer 1. Throws UsageError naming `option` when the
// text is malformed or the model has no such neuron.
struct NeuronId {
  int layer = 0;  // 0-based hidden layer
  int unit = 0;
};
NeuronId ParseNeuron(const std::string& text, const ModelSpec& spec, const std::string& option);
// "L:U" as ParseNeuron reads it.
std::string NeuronName(int layer, int unit);

}  // namespace dpmlp
