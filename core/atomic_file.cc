#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

void WriteFileAtomic(const std::string& path, const void* data, size_t size) {
  IgnoreFileSizeSignal();
  const std::string tmp = path + ".tmp";
  const int fd = OpenRetry(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw IoError("cannot write " + path + ": open " + tmp + ": " + ErrnoText(err));
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
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
    step = "rename ";
    err = errno;
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw IoError("cannot write " + path + ": " + step + tmp + ": " + ErrnoText(err));
  }

  // Without this the rename itself may be lost in a crash, leaving the old file (or none).
  const std::string dir = DirName(path);
  err = SyncDirectoryErrno(dir);
  if (err != 0) {
    throw IoError("cannot write " + path + ": fsync directory " + dir + ": " + ErrnoText(err));
  }
}

void WriteFileAtomic(const std::string& path, const std::string& bytes) {
  WriteFileAtomic(path, bytes.data(), bytes.size());
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
