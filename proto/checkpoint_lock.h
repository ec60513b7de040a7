// One run per checkpoint directory: an exclusive flock(2) on the file dpmlp.lock inside it, held
// for the life of the object (the kernel drops it when the process ends in any way).
//
// Lock-file semantics: the lock is the flock on the open file, never the file's existence. The
// file holds "host <name> pid <pid>" of the holder, for the message a second run prints; a file
// left by a killed run is stale text and is simply locked again. The holder removes the file
// while it still holds the lock, and a taker checks after flock() that the path still names the
// file it locked (else it retries), so a removed file is never locked by two runs. On NFS, Linux
// maps flock() to NFS byte-range locks (NLM for v3, the protocol's own locks for v4), which every
// client sees, as long as the mount does not use `nolock` or `local_lock=flock|all`. Storage that
// refuses locks (ENOLCK, EOPNOTSUPP) gets a warning and no lock: the run goes on.
#pragma once

#include <string>

namespace dpmlp {

class CheckpointDirLock {
 public:
  // Creates `dir` if missing (as EnsureDirectory), then takes the lock. Throws UsageError naming
  // `dir`, the lock file and the holder's host and pid when another process holds it; IoError when
  // the directory or the lock file cannot be created.
  explicit CheckpointDirLock(const std::string& dir);
  // Releases the lock: removes the lock file, and the directory if this object created it and it
  // is empty.
  ~CheckpointDirLock();
  CheckpointDirLock(const CheckpointDirLock&) = delete;
  CheckpointDirLock& operator=(const CheckpointDirLock&) = delete;

  // Non-empty when the filesystem refused to lock: says so, naming the directory.
  const std::string& warning() const { return warning_; }
  const std::string& path() const { return path_; }

  static constexpr const char* kFileName = "dpmlp.lock";

 private:
  std::string dir_, path_, warning_;
  int fd_ = -1;
  bool created_dir_ = false;
};

}  // namespace dpmlp
