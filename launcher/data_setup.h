// From options to data and model: which data set to load, and the model spec it implies.
#pragma once

#include "core/dataset.h"
#include "core/model_spec.h"
#include "dist/train_config.h"
#include "launcher/options.h"

namespace dpmlp {

// Loads train and test as the data options say; throws UsageError naming the option or file.
DataSplit LoadData(const TrainConfig& c);

// --val-npy/--val-labels as a data set (empty without them), checked against train's shape.
Dataset LoadValidation(const TrainConfig& c, const Dataset& train);

// True when the data come from .npy files (--train-npy or --dataset npy).
bool UsesNpy(const TrainConfig& c);
// True for the built-in generated sets (sin, surface, parity:N).
bool IsSynthetic(const TrainConfig& c);
// The --normalize kind to use: "auto" is standardize for real data and none for synthetic sets,
// so the demonstrations on generated sets keep their raw input coordinates.
std::string NormalizationFor(const TrainConfig& c);

// The option that sets a ModelSpec field ("hidden" or "widths": --layers; "output": --output;
// ...), or "the data (FIELD)" for the widths the data decide.
std::string OptionOfSpecField(const std::string& field);

// Resolves "auto" choices and takes input/output widths from the data's shape.
// task: classes > 0 for classification, else targets regression outputs.
ModelSpec BuildSpec(const ModelOptions& m, int input_dim, int classes, int targets);
ModelSpec BuildSpec(const ModelOptions& m, const Dataset& train);

// Input width and classes/targets of a data set option without loading big files (for `info`).
void DataShape(const TrainConfig& c, int* input_dim, int* classes, int* targets);

}  // namespace dpmlp
