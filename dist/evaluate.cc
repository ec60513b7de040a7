#include "dist/evaluate.h"

#include <algorithm>
#include <vector>

#include "dist/shard.h"

namespace dpmlp {

EvalResult EvaluateSharded(Communicator& comm, Network<float>& net, const Dataset& data,
                           const InputTransform& transform, float* x, int32_t* labels,
                           float* targets) {
  const ShardRange mine = ShardRange::Of(static_cast<int64_t>(data.size), comm.rank(), comm.size());
  const int chunk = net.max_rows();
  const AugmentOptions no_augment;
  std::vector<size_t> idx(chunk);
  double sums[4] = {0, 0, 0, 0};  // loss, correct, squared error, count
  for (int64_t at = mine.begin; at < mine.end; at += chunk) {
    const int rows = static_cast<int>(std::min<int64_t>(chunk, mine.end - at));
    for (int r = 0; r < rows; ++r) idx[r] = static_cast<size_t>(at + r);
    GatherInputs(data, idx.data(), rows, transform, no_augment, 0, x);
    const bool cls = data.is_classification();
    GatherTargets(data, idx.data(), rows, cls ? labels : nullptr, cls ? nullptr : targets);
    net.Forward(x, rows);
    const BatchStats st = net.Loss(rows, cls ? labels : nullptr, cls ? nullptr : targets, false);
    sums[0] += st.loss_sum;
    sums[1] += st.correct;
    sums[2] += st.sq_error_sum;
    sums[3] += st.count;
  }
  comm.AllreduceSum(sums, 4);
  EvalResult r;
  r.count = sums[3];
  if (r.count > 0) {
    r.loss = sums[0] / r.count;
    r.accuracy = sums[1] / r.count;
    r.mse = sums[2] / (r.count * net.spec().output_dim);
  }
  return r;
}

EvalResult EvaluateSharded(Communicator& comm, Network<float>& net, const Dataset& data,
                           const InputTransform& transform) {
  const size_t rows = static_cast<size_t>(net.max_rows());
  std::vector<float> x(rows * net.spec().input_dim), targets(rows * net.spec().output_dim);
  std::vector<int32_t> labels(rows);
  return EvaluateSharded(comm, net, data, transform, x.data(), labels.data(), targets.data());
}

}  // namespace dpmlp
