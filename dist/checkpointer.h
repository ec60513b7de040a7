// The checkpoint directory of a training run (--checkpoint-dir, --keep, --resume): writing a
// checkpoint, keeping the newest K, finding and checking the one to resume from, and the best
// model so far (best.pb). Every method is collective: rank 0 touches the files (RankZeroActs),
// every rank learns the outcome. The codec (state <-> pb::Checkpoint) is dist/checkpoint_state.h.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/checkpoint_state.h"
#include "dist/communicator.h"
#include "dist/train_config.h"

namespace dpmlp {

class CheckpointDirLock;
class CheckpointPruner;

class Checkpointer {
 public:
  // `out` is rank 0's log (nullptr on the other ranks) for warnings and what was written.
  Checkpointer(Communicator& comm, const TrainConfig& cfg, const ModelSpec& spec, std::FILE* out);
  ~Checkpointer();

  bool enabled() const { return !cfg_.checkpoint_dir.empty(); }

  // Rank 0 locks the directory for this run (a second run on it is refused) and makes ready to
  // keep the newest --keep checkpoints. Nothing happens without --checkpoint-dir.
  void Open();

  // Writes the checkpoint of `step` (durable when it returns) and prunes the older ones. Refuses,
  // with exit 3 on every rank, parameters that are not finite.
  std::string Write(const ModelData& model, const TrainingState& state, int64_t step);  // its path

  struct Loaded {
    std::string path;
    pb::Checkpoint checkpoint;
    double parse_seconds = 0.0;
  };
  // The checkpoint --resume picks (a path, or the newest valid one in --checkpoint-dir for
  // auto), read by rank 0, parsed on every rank and checked against the requested model and
  // options (what changes is said; what may not change ends the run with exit 2). Empty when
  // the run starts fresh.
  std::optional<Loaded> Load();

  void WriteBest(const ModelData& model);
  std::vector<float> ReadBest();  // the parameters of best.pb
  std::string BestPath() const { return cfg_.checkpoint_dir + "/best.pb"; }

 private:
  std::string Find();  // rank 0: path, NUL, payload; "" when there is nothing to resume
  void CheckResumable(const pb::Checkpoint& ck, const std::string& path);
  void Say(const std::string& text);

  Communicator& comm_;
  const TrainConfig& cfg_;
  const ModelSpec& spec_;
  std::FILE* out_;
  std::unique_ptr<CheckpointDirLock> lock_;   // rank 0
  std::unique_ptr<CheckpointPruner> pruner_;  // rank 0
};

}  // namespace dpmlp
