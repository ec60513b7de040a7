#include "proto/checkpoint_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/error.h"
#include "proto/checkpoint_dir.h"

namespace dpmlp {
namespace {

std::string ErrnoText(int err) { return std::system_category().message(err); }

std::string HolderText(int fd) {
  char buf[256];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return text.empty() ? "a process that has not written its host and pid yet" : text;
}

std::string ThisHolder() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string("host ") + (host[0] ? host : "?") + " pid " + std::to_string(::getpid()) +
         "\n";
}

}  // namespace

CheckpointDirLock::CheckpointDirLock(const std::string& dir)
    : dir_(dir), path_((dir.empty() || dir.back() == '/' ? dir : dir + "/") + kFileName) {
  struct stat st {};
  created_dir_ = ::stat(dir.c_str(), &st) != 0 && errno == ENOENT;
  EnsureDirectory(dir);
  // A few rounds at most: a retry happens only when the holder removed the file in between.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      throw IoError("cannot lock checkpoint directory " + dir + ": open " + path_ + ": " +
                    ErrnoText(err));
    }
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) {
        const std::string holder = HolderText(fd);
        ::close(fd);
        throw UsageError("checkpoint directory " + dir + " is in use by another dpmlp run (" +
                         holder + "; lock file " + path_ +
                         "): one run per checkpoint directory; wait for it to end or use another "
                         "--checkpoint-dir");
      }
      if (err != ENOLCK && err != EOPNOTSUPP && err != ENOSYS) {
        ::close(fd);
        throw IoError("cannot lock checkpoint directory " + dir + ": flock " + path_ + ": " +
                      ErrnoText(err));
      }
      warning_ = "the filesystem of checkpoint directory " + dir + " refuses locks (" +
                 ErrnoText(err) + "): nothing stops a second run from using it at the same time";
    }
    // The holder before us may have removed the file between our open and our flock.
    struct stat held {
    }, named{};
    if (rc == 0 && (::fstat(fd, &held) != 0 || ::stat(path_.c_str(), &named) != 0 ||
                    held.st_ino != named.st_ino || held.st_dev != named.st_dev)) {
      ::close(fd);
      continue;
    }
    fd_ = fd;
    const std::string me = ThisHolder();
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
      // Only the message of a second run is poorer; the lock holds.
    }
    return;
  }
  throw IoError("cannot lock checkpoint directory " + dir + ": " + path_ + " keeps being replaced");
}

CheckpointDirLock::~CheckpointDirLock() {
  if (fd_ < 0) return;
  if (warning_.empty()) ::unlink(path_.c_str());  // still holding the lock: see the header
  ::close(fd_);
  if (created_dir_) ::rmdir(dir_.c_str());  // only succeeds when nothing was written in it
}

}  // namespace dpmlp
