// The built-in `surface` set and a tanh regression net for it, shared by the trainer tests.
#pragma once

#include <utility>
#include <vector>

#include "core/batch.h"
#include "core/dataset.h"
#include "core/model_spec.h"
#include "dist/trainer.h"

namespace dpmlp {
namespace testing_util {

// A 2-(hidden)-1 tanh regression net with Xavier initialisation.
inline ModelSpec SurfaceSpec(std::vector<int> hidden = {20}) {
  ModelSpec spec;
  spec.input_dim = 2;
  spec.hidden = std::move(hidden);
  spec.output_dim = 1;
  spec.activation = ActKind::kTanh;
  spec.output = OutputKind::kIdentity;
  spec.loss = LossKind::kMse;
  spec.init = InitKind::kXavier;
  spec.Validate();
  return spec;
}

// The surface set (seed 1), its training split cut to the first train_samples (0: all), inputs
// left raw as --normalize auto does for the synthetic sets.
inline TrainData SurfaceData(size_t train_samples = 0) {
  DataSplit split = MakeSynthetic("surface", 1);
  TrainData d;
  d.train = std::move(split.train);
  d.test = std::move(split.test);
  if (train_samples > 0) {
    d.train.size = train_samples;
    d.train.values.resize(train_samples * d.train.input_dim);
    d.train.targets.resize(train_samples);
  }
  d.transform = FitInputTransform(d.train, "none");
  return d;
}

}  // namespace testing_util
}  // namespace dpmlp
