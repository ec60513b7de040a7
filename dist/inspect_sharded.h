// Neuron inspection (core/inspect.h) sharded across ranks like evaluation: rank r of p scores
// the contiguous slice [floor(r*N/p), floor((r+1)*N/p)) of the data set, and one allreduce adds
// up the per-neuron sums. Every rank returns the same report, equal to one process's up to
// float summation order (the counts of samples in each neuron's region are exact).
#pragma once

#include <vector>

#include "core/batch.h"
#include "core/dataset.h"
#include "core/inspect.h"
#include "core/model_spec.h"
#include "dist/communicator.h"

namespace dpmlp {

// Collective: every rank must call it with the same model and data set. chunk_rows bounds the
// rows of one forward pass (the buffers are sized for it once).
InspectionReport InspectSharded(Communicator& comm, const ModelSpec& spec,
                                const std::vector<float>& params, const InputTransform& transform,
                                const Dataset& data, int chunk_rows = 256);

}  // namespace dpmlp
