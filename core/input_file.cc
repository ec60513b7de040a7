#include "core/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace dpmlp {
namespace {

const char* KindName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

// Closes a descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads fd to its end. A stream (anything but a regular file) is read up to `cap` bytes; `size`
// only sizes the buffer at the start (a sparse or growing file is read as it is).
std::string ReadAll(int fd, const std::string& name, bool regular, size_t size, size_t cap) {
  std::string text;
  if (regular) text.reserve(std::min(size, kStreamInputCap));
  char buf[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw UsageError(name + ": read error: " + std::string(std::strerror(errno)));
    if (got == 0) break;
    if (!regular && text.size() + static_cast<size_t>(got) > cap)
      throw UsageError(name + ": " +
                       (name == kStdinName ? "standard input" : DescribeFileKind(name) + " that") +
                       " gave more than " + std::to_string(cap) +
                       " bytes; a file that is not a regular file is read up to that cap");
    text.append(buf, static_cast<size_t>(got));
  }
  return text;
}

}  // namespace

std::string DescribeFileKind(const std::string& path) {
  struct stat target {
  }, link{};
  if (::stat(path.c_str(), &target) != 0) return "";
  const bool via_link = ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode);
  return std::string(KindName(target.st_mode)) + (via_link ? " (through a symbolic link)" : "");
}

std::string ReadInputFile(const std::string& path, size_t cap) {
  // A FIFO's open blocks until a writer opens it; a stop signal ends the process then
  // (dist/signals.h), so no O_NONBLOCK dance is needed here.
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    const int err = errno;
    if (err == EISDIR) throw UsageError(path + ": is a directory, not a file");
    throw UsageError(path + ": cannot open: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    throw UsageError(path + ": cannot stat: " + std::string(std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw UsageError(path + ": is a directory, not a file");
  return ReadAll(f.fd, path, S_ISREG(st.st_mode), static_cast<size_t>(st.st_size), cap);
}

std::string ReadStandardInput(size_t cap) {
  struct stat st {};
  const bool regular = ::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
  if (::fcntl(STDIN_FILENO, F_GETFD) < 0)
    throw UsageError(std::string(kStdinName) + ": standard input is closed");
  return ReadAll(STDIN_FILENO, kStdinName, regular, regular ? static_cast<size_t>(st.st_size) : 0,
                 cap);
}

bool StripUtf8Bom(std::string* text) {
  if (text->compare(0, 3, "\xef\xbb\xbf") != 0) return false;
  text->erase(0, 3);
  return true;
}

}  // namespace dpmlp
