// Operations on whole in-memory data sets.
#include "core/dataset.h"

#include <utility>

#include "core/error.h"
#include "core/rng.h"

namespace dpmlp {
namespace {

// Copies everything but the samples.
Dataset EmptyLike(const Dataset& d) {
  Dataset e;
  e.source = d.source;
  e.input_dim = d.input_dim;
  e.image_height = d.image_height;
  e.image_width = d.image_width;
  e.num_classes = d.num_classes;
  e.target_dim = d.target_dim;
  return e;
}

void AppendSample(const Dataset& from, size_t i, Dataset* to) {
  const size_t dim = from.input_dim;
  if (from.has_pixels()) {
    to->pixels.append(from.pixels.data() + i * dim, dim);
  } else {
    to->values.append(from.values.data() + i * dim, dim);
  }
  if (from.is_classification()) {
    to->labels.push_back(from.labels[i]);
  } else {
    const size_t t = from.target_dim;
    to->targets.insert(to->targets.end(), from.targets.begin() + i * t,
                       from.targets.begin() + (i + 1) * t);
  }
  ++to->size;
}

}  // namespace

Dataset SplitValidation(Dataset* train, double fraction, uint64_t seed) {
  // Written so that NaN fails too.
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    throw UsageError("validation fraction " + std::to_string(fraction) + ": must be in [0, 1)");
  }
  Dataset validation = EmptyLike(*train);
  validation.source = train->source + " (validation split)";
  if (fraction == 0.0) return validation;
  Dataset kept = EmptyLike(*train);
  for (size_t i = 0; i < train->size; ++i) {
    const double u = UniformFromHash(HashKey(seed, RngPurpose::kValidationSplit, i));
    AppendSample(*train, i, u < fraction ? &validation : &kept);
  }
  if (kept.size == 0 && train->size > 0) {
    throw UsageError("validation fraction " + std::to_string(fraction) +
                     " leaves no training samples of " + std::to_string(train->size) + " in " +
                     train->source);
  }
  *train = std::move(kept);
  return validation;
}

}  // namespace dpmlp
