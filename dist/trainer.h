// The synchronous data-parallel training loop. Every rank runs the same code: it takes its
// shard of each global batch, computes gradient sums, joins one allreduce, and applies the
// identical update. Only rank 0 prints and writes files.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/dataset.h"
#include "core/error.h"
#include "core/network.h"
#include "core/optimizer.h"
#include "dist/communicator.h"
#include "dist/evaluate.h"
#include "dist/train_config.h"
#include "proto/model_codec.h"

namespace dpmlp {

struct TrainData {
  Dataset train, val, test;  // val is empty unless --val-fraction > 0
  InputTransform transform;  // a resumed run maps inputs as its checkpoint does instead
  // --init-from: the parameters training starts from (empty: a random init from the seed).
  std::vector<float> initial_params;
};

struct TrainSummary {
  int64_t steps = 0;
  int64_t samples_seen = 0;
  int64_t resumed_from_step = -1;  // -1: fresh start
  int64_t epochs_completed = 0;
  bool stopped_by_max_steps = false;  // --max-steps ended training before --epochs
  EvalResult test, val;
  bool early_stopped = false;
  bool classification = true;  // test holds accuracy (else mse)
  std::vector<float> params;   // final (or best, with early stopping) parameters
};

// The epoch's sample order: one global permutation of [0, n) from (seed, epoch) by Fisher-Yates
// over counter-based hashes, identical on every rank.
void EpochPermutation(uint64_t seed, int64_t epoch, std::vector<size_t>* perm);

// A 52-bit fingerprint of a float buffer (exact in a double, so ranks can compare it).
double Fingerprint(const float* data, size_t n);

class Trainer {
 public:
  Trainer(Communicator& comm, const ModelSpec& spec, const TrainData& data,
          const TrainConfig& config);
  ~Trainer();
  TrainSummary Run();
  // Where a run stands now: after Run threw, the steps, samples and epochs done until then.
  TrainSummary SoFar() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Compares every rank's parameter fingerprint with rank 0's; throws CollectiveError naming the
// ranks that differ. `when` says at which point, for the message.
void CheckReplicasAgree(Communicator& comm, const std::vector<float>& params,
                        const std::string& when);

}  // namespace dpmlp
