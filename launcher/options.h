// Command-line and config-file options → plain structs (TrainConfig, ModelSpec choices).
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "core/number_text.h"
#include "dist/train_config.h"

namespace dpmlp {

namespace po = boost::program_options;

// An option's value as text: what --help shows as its default and --print-config writes. Floating
// point values in their shortest round-trip form ("0.05", not "0.050000000000000003").
inline std::string OptionText(const std::string& s) { return s; }
inline std::string OptionText(double v) { return ShortestText(v); }
inline std::string OptionText(float v) { return ShortestText(v); }
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
std::string OptionText(T v) {
  return std::to_string(v);
}

// An option bound to *field whose default is the field's current value, shown as OptionText.
template <class T>
po::typed_value<T>* WithDefault(T* field) {
  return po::value(field)->default_value(*field, OptionText(*field));
}

// Model choices as typed by the user; the data decides input and output widths.
struct ModelOptions {
  std::string layers = "256,128";
  std::string activation = "relu";
  float sigmoid_k = 1.0f;
  float alpha = -1.0f;  // unless alpha_given: the activation's default (0.01 leaky ReLU, 1.0 ELU)
  bool alpha_given = false;
  int maxout_pieces = 2;
  std::string output = "auto";  // softmax for classes, identity for regression
  std::string loss = "auto";
  std::string init = "auto";  // He for the ReLU family, Xavier for sigmoid/tanh
};

// --seed's text as an unsigned 64-bit integer; throws UsageError naming the option and range.
uint64_t ParseSeed(const std::string& text);

// Option groups; each binds to fields of the given struct.
po::options_description DataOptions(TrainConfig* c);
po::options_description ModelOptionsGroup(ModelOptions* m);
po::options_description TrainingOptions(TrainConfig* c, int* threads);
po::options_description CheckpointOptions(TrainConfig* c);

// Parses argv (after the subcommand) and an optional --config FILE (INI, same keys as the long
// options; the command line wins). Returns false when --help or --print-config was printed (the
// command then ends with exit 0); print_help says whether this process prints them. --print-config
// writes the effective options of `opts` as an INI file that --config reads back to the same
// values; `check`, when given, validates them first. Throws UsageError naming the option (with
// the nearest option names for an unknown one), or the config file and line.
bool ParseCommandLine(const std::string& command, const std::string& usage,
                      po::options_description& opts, int argc, char** argv, po::variables_map* vm,
                      bool print_help, const std::function<void()>& check = nullptr);

// The valid interval of a numeric option. NaN and +-inf are outside every interval (an infinite
// end is only ever open); integer only changes the wording of the message.
inline constexpr double kInf = std::numeric_limits<double>::infinity();
struct Range {
  double lo, hi;
  bool lo_open = false, hi_open = false, integer = false;
};

// The one range check of every numeric option: throws UsageError
// "--NAME must be a number in [lo, hi) (got V)" unless value lies in r.
void CheckOption(const std::string& name, double value, const Range& r);

// Range checks of the parsed options; each throws UsageError naming the option and its range.
void ValidateDataOptions(const TrainConfig& c);
void ValidateModelOptions(const ModelOptions& m);
void ValidateTrainConfig(const TrainConfig& c, int threads);

// The outputs of `train` (--metrics, --save-model, --checkpoint-dir) are usable: throws UsageError
// naming the option and path for a directory, a missing or read-only folder, a block device...
void CheckTrainOutputs(const TrainConfig& c);

}  // namespace dpmlp
