// libFuzzer harness for the config parser (launcher/options.cc): the input is the INI file given to
// `dpmlp train --config FILE`, parsed with every train option group, then range-checked
// (ValidateTrainConfig) and the model choices parsed as BuildSpec would. Nothing is loaded: the
// config may name any data file. Only dpmlp::Error may escape.
#include "core/error.h"
#include "core/model_spec.h"
#include "launcher/options.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dpmlp_fuzz::ScratchFile path_file("ini");
  const std::string& path = path_file.path();
  dpmlp_fuzz::WriteScratch(path, data, size);
  dpmlp::TrainConfig cfg;
  dpmlp::ModelOptions mopts;
  int threads = 1;
  try {
    dpmlp::po::options_description opts;
    opts.add(dpmlp::DataOptions(&cfg))
        .add(dpmlp::ModelOptionsGroup(&mopts))
        .add(dpmlp::TrainingOptions(&cfg, &threads))
        .add(dpmlp::CheckpointOptions(&cfg));
    std::string arg0 = "train", arg1 = "--config", arg2 = path;
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
    dpmlp::po::variables_map vm;
    if (!dpmlp::ParseCommandLine("train", "[options]", opts, 3, argv, &vm, false)) return 0;
    dpmlp::ValidateTrainConfig(cfg, threads);
    dpmlp::ValidateModelOptions(mopts);
    dpmlp::ParseLayers(mopts.layers);
    dpmlp::ParseActivation(mopts.activation, "--activation");
    if (mopts.output != "auto") dpmlp::ParseOutput(mopts.output, "--output");
    if (mopts.loss != "auto") dpmlp::ParseLoss(mopts.loss, "--loss");
    if (mopts.init != "auto") dpmlp::ParseInit(mopts.init, "--init");
  } catch (const dpmlp::Error& e) {
    dpmlp_fuzz::Require(e.code() == dpmlp::kExitUsage, "a bad config is a usage error");
  }
  return 0;
}
