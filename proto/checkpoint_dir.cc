#include "proto/checkpoint_dir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <system_error>

#include "core/atomic_file.h"
#include "core/error.h"
#include "proto/framed_file.h"

namespace dpmlp {
namespace {

constexpr char kPrefix[] = "ckpt-";
constexpr char kSuffix[] = ".pb";
constexpr char kTempSuffix[] = ".tmp";

std::string ErrnoText(int err) { return std::system_category().message(err); }

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return EndsWith(dir, "/") ? dir + name : dir + "/" + name;
}

std::string CheckpointName(int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%010" PRId64 "%s", kPrefix, step, kSuffix);
  return name;
}

// True if `name` is exactly what CheckpointName(step) gives for some step; sets *step.
bool ParseCheckpointName(const std::string& name, int64_t* step) {
  const size_t prefix = sizeof kPrefix - 1;
  const size_t suffix = sizeof kSuffix - 1;
  if (name.size() <= prefix + suffix || name.compare(0, prefix, kPrefix) != 0 ||
      !EndsWith(name, kSuffix)) {
    return false;
  }
  const std::string digits = name.substr(prefix, name.size() - prefix - suffix);
  // More digits than any step has; the limit also keeps the sum below from overflowing.
  if (digits.size() > 18) return false;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  // Rejects other paddings ("ckpt-12.pb"), which CheckpointPath never produces.
  if (CheckpointName(value) != name) return false;
  *step = value;
  return true;
}

// Names of the entries of `dir`; none if it does not exist.
std::vector<std::string> DirectoryNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    const int err = errno;
    throw IoError("cannot list checkpoint directory " + dir + ": " + ErrnoText(err));
  }
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    names.emplace_back(e->d_name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) throw IoError("cannot list checkpoint directory " + dir + ": " + ErrnoText(err));
  return names;
}

// A reader's message without the "<path>: " it starts with, so the path is said once.
std::string Reason(const Error& e, const std::string& path) {
  std::string reason = e.what();
  const std::string own_prefix = path + ": ";
  if (reason.compare(0, own_prefix.size(), own_prefix) == 0) reason.erase(0, own_prefix.size());
  return reason;
}

void RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    throw IoError("cannot remove " + path + ": " + ErrnoText(err));
  }
}

}  // namespace

std::string CheckpointPath(const std::string& dir, int64_t step) {
  if (step < 0) throw InternalError("CheckpointPath: negative step " + std::to_string(step));
  return JoinPath(dir, CheckpointName(step));
}

void EnsureDirectory(const std::string& dir) {
  if (dir.empty()) throw IoError("cannot create directory: empty path");
  // Each prefix ending before a '/', then `dir` itself.
  std::string parent = dir[0] == '/' ? "/" : ".";
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const std::string prefix = dir.substr(0, end);
    if (::mkdir(prefix.c_str(), 0755) == 0) {
      SyncDirectory(parent);  // So the new directory survives a crash.
    } else if (errno != EEXIST) {
      const int err = errno;
      throw IoError("cannot create directory " + dir + ": mkdir " + prefix + ": " + ErrnoText(err));
    }
    if (end == std::string::npos) break;
    parent = prefix;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw IoError("cannot create directory " + dir + ": it exists and is not a directory");
  }
}

std::vector<CheckpointEntry> ListCheckpoints(const std::string& dir) {
  std::vector<CheckpointEntry> entries;
  for (const std::string& name : DirectoryNames(dir)) {
    int64_t step;
    if (ParseCheckpointName(name, &step)) entries.push_back({step, JoinPath(dir, name)});
  }
  std::sort(entries.begin(), entries.end(),
            [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.step < b.step; });
  return entries;
}

bool FindNewestValid(
    const std::string& dir,
    const std::function<void(const std::string& path, const std::string& payload)>& load,
    const std::function<void(const std::string&)>& warn, CheckpointEntry* found,
    uint64_t max_payload) {
  const std::vector<CheckpointEntry> entries = ListCheckpoints(dir);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    try {
      load(it->path, ReadFramedFile(it->path, FramedKind::kCheckpoint, max_payload));
      if (found != nullptr) *found = *it;
      return true;
    } catch (const Error& e) {
      if (e.code() == kExitInternal) throw;
      // Reader messages start with the path already; say it once.
      warn("skipping corrupt checkpoint " + it->path + ": " + Reason(e, it->path));
    }
  }
  return false;
}

CheckpointPruner::CheckpointPruner(std::string dir, int keep, Check check,
                                   std::function<void(const std::string&)> warn,
                                   uint64_t max_payload)
    : dir_(std::move(dir)),
      keep_(keep),
      check_(std::move(check)),
      warn_(std::move(warn)),
      max_payload_(max_payload) {
  if (keep < 1) {
    throw InternalError("CheckpointPruner: keep must be >= 1, got " + std::to_string(keep));
  }
}

bool CheckpointPruner::IsOurs(const CheckpointEntry& e) {
  if (written_.count(e.step)) return true;
  const auto known = checked_.find(e.path);
  if (known != checked_.end()) return known->second;
  bool ours = true;
  try {
    check_(e.path, ReadFramedFile(e.path, FramedKind::kCheckpoint, max_payload_));
  } catch (const Error& err) {
    if (err.code() == kExitInternal) throw;
    ours = false;
    warn_("not counting " + e.path + " for --keep and not removing it: " + Reason(err, e.path));
  }
  checked_[e.path] = ours;
  return ours;
}

void CheckpointPruner::Prune(int64_t step) {
  written_.insert(step);
  const std::vector<CheckpointEntry> entries = ListCheckpoints(dir_);
  int kept = 0;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->step > step) {
      if (checked_.emplace(it->path, false).second)
        warn_("not counting " + it->path + " for --keep and not removing it: its step is above " +
              "this run's " + std::to_string(step) + " (left by another run?)");
      continue;
    }
    if (!IsOurs(*it)) continue;
    if (it->step == step || kept < keep_) {
      ++kept;  // the new checkpoint is the first one reached, so it is always kept
      continue;
    }
    RemoveFile(it->path);
    checked_.erase(it->path);
  }

  // A crash between creating a temp file and renaming it leaves one behind. Only our own names
  // go, and nobody else writes here (the directory is locked).
  for (const std::string& name : DirectoryNames(dir_)) {
    int64_t tmp_step;
    if (EndsWith(name, kTempSuffix) &&
        ParseCheckpointName(name.substr(0, name.size() - (sizeof kTempSuffix - 1)), &tmp_step)) {
      RemoveFile(JoinPath(dir_, name));
    }
  }
}

}  // namespace dpmlp
