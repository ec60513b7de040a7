#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/error.h"

namespace dpmlp {
namespace {

// Thread-safe, unlike strerror().
std::string ErrnoText(int err) { return std::system_category().message(err); }

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int OpenRetry(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// The helpers below return 0 or an errno value, so the caller can clean up before it throws.

int WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // Not expected from a regular file; never spin on it.
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

int FsyncRetry(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

constexpr int kMaxSymlinkHops = 40;  // as Linux's own limit on a path

int SyncDirectoryErrno(const std::string& dir) {
  const int fd = OpenRetry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = FsyncRetry(fd);
  ::close(fd);
  if (err == EINVAL) err = 0;  // This filesystem cannot sync directories.
  return err;
}

}  // namespace

void IgnoreFileSizeSignal() {
  struct sigaction current {};
  if (::sigaction(SIGXFSZ, nullptr, &current) != 0) return;
  const bool is_default = !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
  if (!is_default) return;  // Ignored already, or the program handles it itself.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGXFSZ, &ignore, nullptr);
}

void SyncDirectory(const std::string& dir) {
  const int err = SyncDirectoryErrno(dir);
  if (err != 0) throw IoError("cannot sync directory " + dir + ": " + ErrnoText(err));
}

OutputTarget ResolveOutput(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops <= kMaxSymlinkHops; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT) return {p, OutputFileKind::kNew};
      throw IoError("cannot write " + path + ": " + ErrnoText(err));
    }
    if (S_ISLNK(st.st_mode)) {
      std::string link(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      const ssize_t n = ::readlink(p.c_str(), link.data(), link.size());
      if (n < 0 || static_cast<size_t>(n) >= link.size()) {
        throw IoError("cannot write " + path + ": cannot read the symbolic link " + p);
      }
      link.resize(static_cast<size_t>(n));
      p = link[0] == '/' ? link : DirName(p) + "/" + link;
      continue;
    }
    const std::string what = p == path ? path : path + " (-> " + p + ")";
    if (S_ISREG(st.st_mode)) return {p, OutputFileKind::kRegular};
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return {p, OutputFileKind::kInPlace};
    if (S_ISDIR(st.st_mode)) throw IoError("cannot write " + what + ": it is a directory");
    if (S_ISBLK(st.st_mode)) {
      throw IoError("cannot write " + what + ": it is a block device (dpmlp never writes a disk)");
    }
    throw IoError("cannot write " + what + ": it is a socket or another special file");
  }
  throw IoError("cannot write " + path + ": more than " + std::to_string(kMaxSymlinkHops) +
                " symbolic links to follow");
}

namespace {

// A character device or a FIFO: written where it is, never renamed over. A FIFO without a reader
// is an error (ENXIO) rather than a wait without end.
void WriteInPlace(const std::string& path, const std::string& target, const char* data,
                  size_t size) {
  const int fd = OpenRetry(target, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw IoError("cannot write " + path + ": open " + target + ": " +
                  (err == ENXIO ? "a FIFO with no reader" : ErrnoText(err)));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);  // Writes wait for a slow reader.
  int err = WriteAll(fd, data, size);
  if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  if (err != 0) throw IoError("cannot write " + path + ": write " + target + ": " + ErrnoText(err));
}

// Creates `tmp` afresh. A stale regular file there (an interrupted earlier write) is removed
// first; anything else at that name (a directory, a symbolic link, a FIFO) is not ours: refused.
int CreateTemp(const std::string& tmp) {
  const int flags = O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC;
  int fd = OpenRetry(tmp, flags, 0644);
  if (fd < 0 && errno == EEXIST) {
    struct stat st {};
    if (::lstat(tmp.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::unlink(tmp.c_str()) == 0) {
      fd = OpenRetry(tmp, flags, 0644);
    } else {
      errno = EEXIST;
    }
  }
  return fd;
}

}  // namespace

void WriteFileAtomic(const std::string& path, const void* data, size_t size) {
  IgnoreFileSizeSignal();
  const OutputTarget target = ResolveOutput(path);
  if (target.kind == OutputFileKind::kInPlace) {
    WriteInPlace(path, target.path, static_cast<const char*>(data), size);
    return;
  }
  const std::string& dest = target.path;  // a symbolic link's target is replaced, not the link
  const std::string tmp = dest + ".tmp";
  const int fd = CreateTemp(tmp);
  if (fd < 0) {
    const int err = errno;
    throw IoError("cannot write " + path + ": open " + tmp + ": " + ErrnoText(err) +
                  (err == EEXIST ? " (and is not a regular file: remove it)" : ""));
  }

  std::string step = "write ";
  int err = WriteAll(fd, static_cast<const char*>(data), size);
  if (err == 0) {
    step = "fsync ";
    err = FsyncRetry(fd);
  }
  // Linux releases the descriptor even when close() fails; EINTR after a good fsync loses nothing.
  if (::close(fd) != 0 && err == 0 && errno != EINTR) {
    step = "close ";
    err = errno;
  }
  if (err == 0 && ::rename(tmp.c_str(), dest.c_str()) != 0) {
    step = "rename ";
    err = errno;
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw IoError("cannot write " + path + ": " + step + tmp + ": " + ErrnoText(err));
  }

  // Without this the rename itself may be lost in a crash, leaving the old file (or none).
  const std::string dir = DirName(dest);
  err = SyncDirectoryErrno(dir);
  if (err != 0) {
    throw IoError("cannot write " + path + ": fsync directory " + dir + ": " + ErrnoText(err));
  }
}

void CheckOutputPath(const std::string& option, const std::string& path, bool append) {
  const std::string what = option + " " + path;
  OutputTarget target;
  try {
    target = ResolveOutput(path);
  } catch (const Error& e) {
    std::string reason = e.what();
    const std::string prefix = "cannot write " + path;
    if (reason.compare(0, prefix.size(), prefix) == 0) reason.erase(0, prefix.size());
    throw UsageError(what + reason);
  }
  if (target.kind == OutputFileKind::kInPlace ||
      (append && target.kind == OutputFileKind::kRegular)) {
    if (::access(target.path.c_str(), W_OK) != 0) {
      const int err = errno;
      throw UsageError(what + ": cannot write " + target.path + ": " + ErrnoText(err));
    }
    return;
  }
  const std::string dir = DirName(target.path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw UsageError(what + ": the directory " + dir + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;
    throw UsageError(what + ": cannot create files in " + dir + ": " + ErrnoText(err));
  }
}

void WriteFileAtomic(const std::string& path, const std::string& bytes) {
  WriteFileAtomic(path, bytes.data(), bytes.size());
}

void WriteStandardOutput(const std::string& bytes) {
  std::fflush(stdout);  // whatever stdio holds goes first
  IgnoreFileSizeSignal();
  const int err = WriteAll(STDOUT_FILENO, bytes.data(), bytes.size());
  if (err != 0) throw IoError("standard output: cannot write: " + ErrnoText(err));
}

void AppendRecord(const std::string& path, const std::string& record) {
  IgnoreFileSizeSignal();
  const std::string target = ResolveOutput(path).path;
  const int fd =
      OpenRetry(target, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw IoError("cannot append to " + path + ": " +
                  (err == ENXIO ? "a FIFO with no reader" : ErrnoText(err)));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  int err = WriteAll(fd, record.data(), record.size());
  std::string undo;
  if (err != 0 && regular) {
    undo = ::ftruncate(fd, st.st_size) == 0
               ? " (the partial record was removed)"
               : " (a partial record may be left: " + ErrnoText(errno) + ")";
  }
  if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  if (err != 0) throw IoError("cannot append to " + path + ": " + ErrnoText(err) + undo);
}

uint64_t DropPartialLastLine(const std::string& path) {
  const int fd = OpenRetry(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return 0;  // missing, or unwritable: then appending fails with its own message
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    ::close(fd);
    return 0;
  }
  // Back from the end, a block at a time, to the last newline.
  const off_t size = st.st_size;
  off_t keep = 0;
  char buffer[1 << 16];
  for (off_t end = size; end > 0 && keep == 0;) {
    const off_t begin = end > static_cast<off_t>(sizeof buffer) ? end - sizeof buffer : 0;
    const ssize_t n = ::pread(fd, buffer, static_cast<size_t>(end - begin), begin);
    if (n <= 0) break;
    for (ssize_t i = n; i > 0; --i) {
      if (buffer[i - 1] == '\n') {
        keep = begin + i;
        break;
      }
    }
    if (end == size && keep == size) break;  // ends in a newline: nothing to do
    end = begin;
  }
  int err = 0;
  if (keep < size && ::ftruncate(fd, keep) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    throw IoError("cannot remove the partial last line of " + path + ": " + ErrnoText(err));
  }
  return static_cast<uint64_t>(size - keep);
}

std::string ReadFileBytes(const std::string& path) {
  const int fd = OpenRetry(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw UsageError(path + ": cannot open: " + ErrnoText(err));
  }
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) bytes.reserve(static_cast<size_t>(st.st_size));

  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw UsageError(path + ": cannot read: " + ErrnoText(err));
    }
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

}  // namespace dpmlp
