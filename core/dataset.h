// In-memory data sets and the loaders that fill them (IDX, CSV, built-in synthetic sets).
// Images stay uint8 in memory; rows are converted to float per batch (core/batch.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/feature_buffer.h"

namespace dpmlp {

struct Dataset {
  std::string source;    // file or generator name, used in messages
  size_t size = 0;       // number of samples
  size_t input_dim = 0;  // features per sample
  // Features, row-major size x input_dim: exactly one of the two is non-empty. Either may be a
  // read-only view into a memory-mapped input file (raw IDX, .npy), shared by the host's ranks.
  FeatureBuffer<uint8_t> pixels;  // images, 0..255
  FeatureBuffer<float> values;    // real-valued features
  int image_height = 0;           // > 0 when each row is an image (enables augmentation)
  int image_width = 0;
  // Targets: classification (num_classes > 0, labels) or regression (target_dim > 0, targets).
  int num_classes = 0;
  std::vector<int32_t> labels;  // size entries in [0, num_classes)
  size_t target_dim = 0;
  std::vector<float> targets;  // size x target_dim, row-major

  bool is_classification() const { return num_classes > 0; }
  bool has_pixels() const { return !pixels.empty(); }
  // Feature j of sample i as float, before normalisation.
  float feature(size_t i, size_t j) const {
    return has_pixels() ? static_cast<float>(pixels[i * input_dim + j]) : values[i * input_dim + j];
  }
};

struct DataSplit {
  Dataset train;
  Dataset test;
};

// Where the Debian package dataset-fashion-mnist installs its IDX files; the --data-dir default.
inline constexpr char kDefaultIdxDir[] = "/usr/share/datasets/fashion-mnist";

// Loads the four standard MNIST-layout IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; each raw or with .gz) from dir.
// Throws UsageError naming the file on a missing file, wrong magic, truncation, count mismatch
// or a label out of range; the message for a missing default directory names the Debian package.
DataSplit LoadIdxDirectory(const std::string& dir);

// What LoadIdxDirectory throws when dir, or one of its four files, is missing (exit 2), so a
// caller can add where else the data could come from.
class MissingIdxFiles : public Error {
 public:
  explicit MissingIdxFiles(const std::string& msg) : Error(kExitUsage, msg) {}
};

// Its message: what is missing, the four files expected and, for kDefaultIdxDir, the Debian
// package that installs them. Exposed so tests can check the default-directory wording.
std::string MissingIdxFilesMessage(const std::string& dir, const std::string& file);

// Loads one IDX image file and its label file (raw or gzip). Labels must be < 10 (num_classes is
// 10); image height and width come from the header. Throws UsageError naming the file; a header
// declaring more data than the file holds fails as truncated without allocating the declared size.
Dataset LoadIdxPair(const std::string& images_path, const std::string& labels_path);

// Loads a CSV file (comma-separated, numeric). target_columns == 0: the first column is an
// integer class label in [0, num_classes) and the rest are features; target_columns == T > 0: the
// first T columns are regression targets. num_classes == 0 infers 1 + the largest label.
// header: the first row names the columns and is skipped. It must have as many columns as the
// data rows and no empty name (a name may be "quoted"), and must not be numbers only, which is
// most likely a data row (refused, except the column numbers 0,1,...,n-1 that pandas writes for
// unnamed columns). Throws UsageError naming file and line on a bad header, a ragged row, a
// non-numeric, NaN or Inf field, a negative or non-integer label, or an empty file.
Dataset LoadCsv(const std::string& path, int target_columns, int num_classes = 0,
                bool header = false);

// Loads a CSV of inputs only (no label or target columns), as `predict` reads; every row must
// have expected_columns fields. Path "-" reads standard input (once, to its end), named
// "<stdin>" in messages. Same header rule and errors as LoadCsv.
Dataset LoadCsvInputs(const std::string& path, size_t expected_columns, bool header = false);

// Built-in synthetic sets, pure functions of (name, seed):
//   "sin"      y = sin x, x on [-pi, pi]
//   "surface"  z = sin(x + 0.1*y^2) on the square documented in the implementation
//   "parity:N" N-bit XOR, 2 classes, 1 <= N <= 20
// Throws UsageError for an unknown name or bad N.
DataSplit MakeSynthetic(const std::string& name, uint64_t seed);

// The "surface" set's target z at input (x, y): the true function `dpmlp plot` draws beside a
// model of it.
double SurfaceZ(double x, double y);

// Moves a seeded random fraction of train into a validation set; the choice depends only on
// (seed, sample index, fraction), never on the rank count. fraction must be in [0, 1).
Dataset SplitValidation(Dataset* train, double fraction, uint64_t seed);

}  // namespace dpmlp
