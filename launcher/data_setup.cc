#include "launcher/data_setup.h"

#include "core/error.h"
#include "core/npy.h"

namespace dpmlp {

namespace {

// Keeps the first n samples (n <= 0: all).
void Truncate(Dataset* d, int64_t n) {
  if (n <= 0 || static_cast<size_t>(n) >= d->size) return;
  d->size = static_cast<size_t>(n);
  if (d->has_pixels())
    d->pixels.resize(d->size * d->input_dim);
  else
    d->values.resize(d->size * d->input_dim);
  if (d->is_classification())
    d->labels.resize(d->size);
  else
    d->targets.resize(d->size * d->target_dim);
}

// A test or validation set must have the training set's inputs and kind of output.
void CheckSameShape(const Dataset& train, const Dataset& other) {
  std::string what;
  if (other.input_dim != train.input_dim)
    what = std::to_string(other.input_dim) + " features per sample, but " + train.source + " has " +
           std::to_string(train.input_dim);
  else if (other.is_classification() != train.is_classification())
    what = std::string(other.is_classification() ? "class labels" : "regression targets") +
           ", but " + train.source + " has " +
           (train.is_classification() ? "class labels" : "regression targets");
  else if (!train.is_classification() && other.target_dim != train.target_dim)
    what = std::to_string(other.target_dim) + " targets per sample, but " + train.source + " has " +
           std::to_string(train.target_dim);
  if (!what.empty()) throw UsageError(other.source + ": " + what);
}

// The CSV options that need CSV files; standard input is for predict only (under mpirun only
// rank 0 has it, and training reads its files on every rank).
void CheckCsvOptions(const TrainConfig& c) {
  for (const auto& [name, path] :
       {std::pair{"--train-csv", c.train_csv}, {"--test-csv", c.test_csv}})
    if (path == "-")
      throw UsageError(std::string(name) + " -: standard input is read only by predict --input; " +
                       "give a file");
  if (c.csv_header && c.train_csv.empty() && c.test_csv.empty() && c.dataset != "csv")
    throw UsageError("--csv-header needs CSV data (--train-csv and --test-csv)");
}

DataSplit LoadSplit(const TrainConfig& c) {
  CheckCsvOptions(c);
  if (UsesNpy(c)) {
    DataSplit s;
    s.train = LoadNpy(c.train_npy, c.train_labels);
    s.test = LoadNpy(c.test_npy, c.test_labels, s.train.num_classes);
    CheckSameShape(s.train, s.test);
    return s;
  }
  if (!c.train_csv.empty() || c.dataset == "csv") {
    if (c.train_csv.empty() || c.test_csv.empty())
      throw UsageError("--train-csv and --test-csv go together (both files are needed)");
    DataSplit s;
    s.train = LoadCsv(c.train_csv, c.csv_targets, 0, c.csv_header);
    s.test = LoadCsv(c.test_csv, c.csv_targets, s.train.num_classes, c.csv_header);
    if (s.test.input_dim != s.train.input_dim)
      throw UsageError(c.test_csv + ": " + std::to_string(s.test.input_dim) +
                       " features per row, but " + c.train_csv + " has " +
                       std::to_string(s.train.input_dim));
    return s;
  }
  if (c.dataset == "fashion-mnist" || c.dataset == "mnist" || !c.data_dir.empty()) {
    const std::string dir = c.data_dir.empty() ? kDefaultIdxDir : c.data_dir;
    try {
      return LoadIdxDirectory(dir);
    } catch (const MissingIdxFiles& e) {
      throw UsageError(std::string(e.what()) + (dir == kDefaultIdxDir ? " Or pass" : " Pass") +
                       " --data-dir DIR for another IDX directory, --train-csv/--test-csv for "
                       "CSV files, or --dataset sin|surface|parity:N for a built-in synthetic "
                       "set.");
    }
  }
  try {
    return MakeSynthetic(c.dataset, c.seed);
  } catch (const Error& e) {
    throw UsageError(std::string("--dataset ") + e.what());
  }
}

}  // namespace

bool UsesNpy(const TrainConfig& c) { return !c.train_npy.empty() || c.dataset == "npy"; }

bool IsSynthetic(const TrainConfig& c) {
  return ResolveNormalization("auto", c.dataset, c.data_dir, c.train_csv, c.train_npy) == "none";
}

Dataset LoadValidation(const TrainConfig& c, const Dataset& train) {
  if (c.val_npy.empty()) return Dataset{};
  Dataset val = LoadNpy(c.val_npy, c.val_labels, train.num_classes);
  CheckSameShape(train, val);
  return val;
}

DataSplit LoadData(const TrainConfig& c) {
  ValidateDataOptions(c);
  DataSplit s = LoadSplit(c);
  Truncate(&s.train, c.train_samples);
  Truncate(&s.test, c.test_samples);
  return s;
}

std::string NormalizationFor(const TrainConfig& c) {
  return ResolveNormalization(c.normalize, c.dataset, c.data_dir, c.train_csv, c.train_npy);
}

std::string OptionOfSpecField(const std::string& field) {
  if (field == "hidden" || field == "widths") return "--layers";
  if (field == "activation") return "--activation";
  if (field == "loss") return "--loss";
  if (field == "output") return "--output";
  if (field == "sigmoid_k") return "--sigmoid-k";
  if (field == "alpha") return "--alpha";
  if (field == "maxout_pieces") return "--maxout-pieces";
  return "the data (" + field + ")";
}

ModelSpec BuildSpec(const ModelOptions& m, int input_dim, int classes, int targets) {
  ValidateModelOptions(m);
  ModelSpec s;
  s.input_dim = input_dim;
  try {
    s.hidden = ParseLayers(m.layers);
  } catch (const Error& e) {
    throw UsageError(std::string("--layers: ") + e.what());
  }
  s.activation = ParseActivation(m.activation, "--activation");
  s.sigmoid_k = m.sigmoid_k;
  s.alpha = m.alpha_given ? m.alpha : (s.activation == ActKind::kElu ? 1.0f : 0.01f);
  s.maxout_pieces = m.maxout_pieces;
  const bool cls = classes > 0;
  const bool out_auto = m.output == "auto", loss_auto = m.loss == "auto";
  if (out_auto && loss_auto) {
    s.output = cls ? OutputKind::kSoftmax : OutputKind::kIdentity;
    s.loss = cls ? LossKind::kCrossEntropy : LossKind::kMse;
  } else if (out_auto) {
    s.loss = ParseLoss(m.loss, "--loss");
    s.output = s.loss == LossKind::kCrossEntropy         ? OutputKind::kSoftmax
               : s.loss == LossKind::kBinaryCrossEntropy ? OutputKind::kSigmoid
               : cls                                     ? OutputKind::kSigmoid
                                                         : OutputKind::kIdentity;
  } else {
    s.output = ParseOutput(m.output, "--output");
    s.loss = !loss_auto                         ? ParseLoss(m.loss, "--loss")
             : s.output == OutputKind::kSoftmax ? LossKind::kCrossEntropy
             : s.output == OutputKind::kSigmoid ? LossKind::kBinaryCrossEntropy
                                                : LossKind::kMse;
  }
  s.init = m.init == "auto" ? DefaultInit(s.activation) : ParseInit(m.init, "--init");
  if (cls)
    s.output_dim = (s.output == OutputKind::kSigmoid && classes == 2) ? 1 : classes;
  else
    s.output_dim = targets;
  if (!cls && s.output == OutputKind::kSoftmax)
    throw UsageError("--output softmax needs class labels, but the data are regression targets");
  try {
    s.Validate();
  } catch (const SpecError& e) {
    if (e.field() != "output") throw UsageError(OptionOfSpecField(e.field()) + ": " + e.detail());
    // "identity does not go with loss mse" reads as the command line: --output ... --loss ...
    std::string d = e.detail();
    const size_t at = d.find(" loss ");
    if (at != std::string::npos) d.replace(at, 6, " --loss ");
    throw UsageError("--output " + d);
  }
  return s;
}

ModelSpec BuildSpec(const ModelOptions& m, const Dataset& train) {
  return BuildSpec(m, static_cast<int>(train.input_dim), train.num_classes,
                   static_cast<int>(train.target_dim));
}

void DataShape(const TrainConfig& c, int* input_dim, int* classes, int* targets) {
  *classes = 0, *targets = 0;
  if (c.train_csv.empty() && !UsesNpy(c) && c.dataset != "csv" && c.data_dir.empty() &&
      (c.dataset == "fashion-mnist" || c.dataset == "mnist")) {
    *input_dim = 28 * 28;  // the IDX files' shape, known without reading them
    *classes = 10;
    return;
  }
  const DataSplit s = LoadData(c);
  *input_dim = static_cast<int>(s.train.input_dim);
  *classes = s.train.num_classes;
  *targets = static_cast<int>(s.train.target_dim);
}

}  // namespace dpmlp
