#include "launcher/plot_inputs.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "launcher/data_setup.h"
#include "launcher/model_file.h"
#include "proto/framed_file.h"

namespace dpmlp {

po::options_description InspectInputOptions(InspectInputs* in) {
  po::options_description d = ModelFileOptions(&in->model_path, &in->checkpoint_path);
  d.add_options()("split", po::value(&in->split)->default_value(in->split),
                  "which part of the data set: test | train");
  return d;
}

ModelData LoadInspectedModel(const InspectInputs& in) {
  return LoadModelChoice(in.model_path, in.checkpoint_path);
}

Dataset LoadInspectedSplit(const InspectInputs& in, const ModelSpec& spec) {
  if (in.split != "test" && in.split != "train")
    throw UsageError("unknown value '" + in.split + "' for --split (valid: test|train)");
  DataSplit both = LoadData(in.data);
  Dataset d = std::move(in.split == "test" ? both.test : both.train);
  CheckDataFitsModel(d, spec);
  if (d.size == 0) throw UsageError(d.source + ": no samples to inspect");
  return d;
}

NeuronId ParseNeuron(const std::string& text, const ModelSpec& spec, const std::string& option) {
  auto number = [&](const std::string& s) {
    if (s.empty() || s.size() > 9 ||
        !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
      throw UsageError(option + " " + text + ": expected LAYER:UNIT (e.g. 1:17) or UNIT");
    return std::stoi(s);
  };
  const size_t colon = text.find(':');
  NeuronId id;
  id.layer = colon == std::string::npos ? 0 : number(text.substr(0, colon)) - 1;
  id.unit = number(colon == std::string::npos ? text : text.substr(colon + 1));
  const int hidden = static_cast<int>(spec.hidden.size());
  if (id.layer < 0 || id.layer >= hidden)
    throw UsageError(option + " " + text + ": the model has hidden layers 1.." +
                     std::to_string(hidden));
  if (id.unit >= spec.hidden[id.layer])
    throw UsageError(option + " " + text + ": hidden layer " + std::to_string(id.layer + 1) +
                     " has units 0.." + std::to_string(spec.hidden[id.layer] - 1));
  return id;
}

std::string NeuronName(int layer, int unit) {
  return std::to_string(layer + 1) + ":" + std::to_string(unit);
}

}  // namespace dpmlp
