// The checkpoint directory: one framed file per saved step, named ckpt-<step, 10 digits>.pb, so
// names sort by step. Rank 0 writes each through WriteFramedFile (temp file + fsync + rename +
// directory fsync), then prunes to the newest K. A resumed run takes the newest file that loads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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
// so does the IoError of a directory that cannot be listed.
bool FindNewestValid(
    const std::string& dir,
    const std::function<void(const std::string& path, const std::string& payload)>& load,
    const std::function<void(const std::string&)>& warn, CheckpointEntry* found);

// Removes all but the newest `keep` checkpoints, and every stale ckpt-*.pb.tmp left by an
// interrupted write. Call it only after the newest checkpoint was written successfully: files are
// ranked by step, not checked. Throws InternalError if keep < 1, IoError naming the file that
// cannot be removed.
void PruneCheckpoints(const std::string& dir, int keep);

}  // namespace dpmlp
