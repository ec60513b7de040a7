// Choosing and checking the model a command reads: --model FILE or --checkpoint FILE.
#pragma once

#include <string>

#include "core/dataset.h"
#include "launcher/options.h"
#include "proto/model_codec.h"

namespace dpmlp {

po::options_description ModelFileOptions(std::string* model, std::string* checkpoint);

// Loads exactly one of the two (a model file, or the model inside a checkpoint); a file of the
// other kind is rejected by name. Throws UsageError.
ModelData LoadModelChoice(const std::string& model, const std::string& checkpoint);

// --init-from: the model file or checkpoint at `path` (either kind, read once), which must hold the
// architecture the options build (`built`). Throws UsageError "--init-from PATH: ..." naming the
// problem, or each difference ("layers 784-32-10, but the options build 784-64-10").
ModelData LoadInitModel(const std::string& path, const ModelSpec& built);

// Throws UsageError naming d.source unless d's inputs and labels or targets fit the model.
void CheckDataFitsModel(const Dataset& d, const ModelSpec& spec);

}  // namespace dpmlp
