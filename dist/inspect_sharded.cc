#include "dist/inspect_sharded.h"

#include <algorithm>

#include "dist/shard.h"

namespace dpmlp {

InspectionReport InspectSharded(Communicator& comm, const ModelSpec& spec,
                                const std::vector<float>& params, const InputTransform& transform,
                                const Dataset& data, int chunk_rows) {
  NeuronProbe probe(spec, params, chunk_rows);
  const ShardRange mine = ShardRange::Of(static_cast<int64_t>(data.size), comm.rank(), comm.size());
  BatchReader(data, transform, probe.max_rows())
      .ForEach(static_cast<size_t>(mine.begin), static_cast<size_t>(mine.end),
               [&](size_t, int rows, const float* x, const int32_t* labels, const float* targets) {
                 probe.Add(x, rows, labels, targets);
               });
  const bool cls = data.is_classification();
  comm.AllreduceSum(probe.sums().data(), probe.sums().size());
  return SummarizeInspection(spec, params, transform, probe.sums(), cls);
}

}  // namespace dpmlp
