// Evaluation sharded across ranks: rank r of p scores the contiguous slice
// [floor(r*N/p), floor((r+1)*N/p)) of the data set, and one allreduce combines the sums.
#pragma once

#include "core/batch.h"
#include "core/dataset.h"
#include "core/network.h"
#include "dist/communicator.h"

namespace dpmlp {

struct EvalResult {
  double loss = 0.0;      // mean loss per sample
  double accuracy = 0.0;  // classification
  double mse = 0.0;       // mean squared error per output value
  double count = 0.0;
};

// Scores this rank's slice of `data` with `net` in chunks of the network's max_rows (BatchReader);
// every rank returns the figures of the whole set.
EvalResult EvaluateSharded(Communicator& comm, Network<float>& net, const Dataset& data,
                           const InputTransform& transform);

}  // namespace dpmlp
