// The checkpoint directory: one framed file per saved step, named ckpt-<step, 10 digits>.pb, so
// names sort by step. Rank 0 writes each through WriteFramedFile (temp file + fsync + rename +
// directory fsync), then prunes to the newest K. A resumed run takes the newest file that loads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "proto/framed_file.h"

namespace dpmlp {

// dir + "/ckpt-0000000042.pb" for step 42. Steps of more than 10 digits are written in full.
// Throws InternalError for a negative step.
std::string CheckpointPath(const std::string& dir, int64_t step);

// Creates `dir` and any missing parents (mode 0755 before umask), like mkdir -p; fsyncs the parent
// of each directory it creates. Throws IoError naming `dir` when it cannot be created or exists but
// is not a directory.
void EnsureDirectory(const std::string& dir);

struct CheckpointEntry {
  int64_t step;
  std::string path;
};

// The checkpoints in `dir`, sorted by step ascending; empty when `dir` does not exist. Only names
// CheckpointPath produces count: *.tmp files and every other name are ignored. The files are not
// opened. Throws IoError naming `dir` if it exists but cannot be listed.
std::vector<CheckpointEntry> ListCheckpoints(const std::string& dir);

// Walks the checkpoints from the newest down; for each, reads it with
// ReadFramedFile(path, FramedKind::kCheckpoint) and passes the payload to `load`, which throws
// dpmlp::Error if the contents are bad. The first one that passes both is stored in `*found` (if
// non-null) and true is returned. Each one that fails is reported through
// `warn("skipping corrupt checkpoint PATH: reason")` and skipped. Returns false when none passes
// or `dir` does not exist. InternalError (a bug) and exceptions other than dpmlp::Error propagate;
// so does the IoError of a directory that cannot be listed. A file whose header declares more than
// `max_payload` bytes is skipped without reading its payload.
bool FindNewestValid(
    const std::string& dir,
    const std::function<void(const std::string& path, const std::string& payload)>& load,
    const std::function<void(const std::string&)>& warn, CheckpointEntry* found,
    uint64_t max_payload = kMaxPlausiblePayloadBytes);

// Keep-K for one run's checkpoint directory. After each checkpoint the run writes (and only once
// it is durable), Prune removes this run's older checkpoints beyond the newest `keep`, counting the
// new one, plus every stale ckpt-*.pb.tmp. It counts and removes only files of this run: those it
// wrote itself, and others (found in the folder, e.g. from before a resume) that read as a valid
// frame and pass `check(path, payload)` (which throws dpmlp::Error for a checkpoint of another
// model or run). A file that fails, or whose step is above the new checkpoint's, is never removed
// or counted; `warn` names it once. The checkpoint just written is never removed. The directory
// must be locked (CheckpointDirLock), so no other process writes in it.
class CheckpointPruner {
 public:
  using Check = std::function<void(const std::string& path, const std::string& payload)>;
  CheckpointPruner(std::string dir, int keep, Check check,
                   std::function<void(const std::string&)> warn,
                   uint64_t max_payload = kMaxPlausiblePayloadBytes);

  // `step` was just written to CheckpointPath(dir, step) and is durable. Throws IoError naming the
  // file that cannot be removed.
  void Prune(int64_t step);

 private:
  bool IsOurs(const CheckpointEntry& e);

  std::string dir_;
  int keep_;
  Check check_;
  std::function<void(const std::string&)> warn_;
  uint64_t max_payload_;
  std::set<int64_t> written_;            // steps this process wrote: known good
  std::map<std::string, bool> checked_;  // other files, read once: belongs to this run?
};

}  // namespace dpmlp
