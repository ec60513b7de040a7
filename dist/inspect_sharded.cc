#include "dist/inspect_sharded.h"

#include <algorithm>

#include "dist/shard.h"

namespace dpmlp {

InspectionReport InspectSharded(Communicator& comm, const ModelSpec& spec,
                                const std::vector<float>& params, const InputTransform& transform,
                                const Dataset& data, int chunk_rows) {
  NeuronProbe probe(spec, params, chunk_rows);
  const int chunk = probe.max_rows();
  const bool cls = data.is_classification();
  std::vector<float> x(static_cast<size_t>(chunk) * spec.input_dim);
  std::vector<float> targets(cls ? 0 : static_cast<size_t>(chunk) * spec.output_dim);
  std::vector<int32_t> labels(cls ? chunk : 0);
  std::vector<size_t> idx(chunk);
  const AugmentOptions no_augment;
  const ShardRange mine = ShardRange::Of(static_cast<int64_t>(data.size), comm.rank(), comm.size());
  for (int64_t at = mine.begin; at < mine.end; at += chunk) {
    const int rows = static_cast<int>(std::min<int64_t>(chunk, mine.end - at));
    for (int r = 0; r < rows; ++r) idx[r] = static_cast<size_t>(at + r);
    GatherInputs(data, idx.data(), rows, transform, no_augment, 0, x.data());
    GatherTargets(data, idx.data(), rows, cls ? labels.data() : nullptr,
                  cls ? nullptr : targets.data());
    probe.Add(x.data(), rows, cls ? labels.data() : nullptr, cls ? nullptr : targets.data());
  }
  comm.AllreduceSum(probe.sums().data(), probe.sums().size());
  return SummarizeInspection(spec, params, transform, probe.sums(), cls);
}

}  // namespace dpmlp
