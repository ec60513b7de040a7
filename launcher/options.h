// Command-line and config-file options → plain structs (TrainConfig, ModelSpec choices).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "dist/train_config.h"

namespace dpmlp {

namespace po = boost::program_options;

// Model choices as typed by the user; the data decides input and output widths.
struct ModelOptions {
  std::string layers = "256,128";
  std::string activation = "relu";
  float sigmoid_k = 1.0f;
  float alpha = -1.0f;  // < 0: the activation's default (0.01 leaky ReLU, 1.0 ELU)
  int maxout_pieces = 2;
  std::string output = "auto";  // softmax for classes, identity for regression
  std::string loss = "auto";
  std::string init = "auto";  // He for the ReLU family, Xavier for sigmoid/tanh
};

// Option groups; each binds to fields of the given struct.
po::options_description DataOptions(TrainConfig* c);
po::options_description ModelOptionsGroup(ModelOptions* m);
po::options_description TrainingOptions(TrainConfig* c, int* threads);
po::options_description CheckpointOptions(TrainConfig* c);

// Parses argv (after the subcommand) and an optional --config FILE (INI, same keys as the long
// options; the command line wins). Returns false when --help was printed. Throws UsageError
// naming the option, or the config file and line.
bool ParseCommandLine(const std::string& command, const std::string& usage,
                      po::options_description& opts, int argc, char** argv, po::variables_map* vm,
                      bool print_help);

// Range checks of the parsed training options; throws UsageError naming the option.
void ValidateTrainConfig(const TrainConfig& c, int threads);

// The outputs of `train` (--metrics, --save-model, --checkpoint-dir) are usable: throws UsageError
// naming the option and path for a directory, a missing or read-only folder, a block device...
void CheckTrainOutputs(const TrainConfig& c);

}  // namespace dpmlp
