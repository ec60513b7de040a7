#include "dist/evaluate.h"

#include <algorithm>
#include <vector>

#include "dist/shard.h"

namespace dpmlp {

EvalResult EvaluateSharded(Communicator& comm, Network<float>& net, const Dataset& data,
                           const InputTransform& transform) {
  const ShardRange mine = ShardRange::Of(static_cast<int64_t>(data.size), comm.rank(), comm.size());
  double sums[4] = {0, 0, 0, 0};  // loss, correct, squared error, count
  BatchReader(data, transform, net.max_rows())
      .ForEach(static_cast<size_t>(mine.begin), static_cast<size_t>(mine.end),
               [&](size_t, int rows, const float* x, const int32_t* labels, const float* targets) {
                 net.Forward(x, rows);
                 const BatchStats st = net.Loss(rows, labels, targets, false);
                 sums[0] += st.loss_sum;
                 sums[1] += st.correct;
                 sums[2] += st.sq_error_sum;
                 sums[3] += st.count;
               });
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

}  // namespace dpmlp
