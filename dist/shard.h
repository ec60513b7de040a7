// How a global batch is cut among ranks.
#pragma once

#include <cstdint>

namespace dpmlp {

// Rank r of p takes the contiguous slice [floor(r*b/p), floor((r+1)*b/p)) of a batch of b samples:
// shard sizes differ by at most one, and a rank may get none (it still joins the allreduce).
struct ShardRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
  static ShardRange Of(int64_t batch, int rank, int world) {
    return {batch * rank / world, batch * (rank + 1) / world};
  }
};

}  // namespace dpmlp
