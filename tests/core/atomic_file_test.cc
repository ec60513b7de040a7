// Durable writes against real files. Failures are caused for real, not simulated: a parent that is
// a regular file (ENOTDIR), a missing directory (ENOENT), RLIMIT_FSIZE (EFBIG), an unprivileged
// user in a read-only directory (EACCES) and a full 64 KiB tmpfs (ENOSPC). Anything that changes
// process-wide state (limits, uid, mounts, signals, cwd) runs in a forked child.
#include "core/atomic_file.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>

#include "core/error.h"
#include "tests/temp_dir.h"

namespace dpmlp {
namespace {

using testing_util::TempDir;

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string ErrnoText(int err) { return std::system_category().message(err); }

// Runs `body` in a forked child so that process-wide changes stay there, and returns what it
// returned: "" for success, "SKIP: why" to skip, anything else describes a failure. A child killed
// by a signal (SIGXFSZ, say) is a failure.
std::string RunInChild(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(fds[0]);
    std::string result;
    try {
      result = body();
    } catch (const std::exception& e) {
      result = std::string("unexpected exception: ") + e.what();
    }
    for (size_t done = 0; done < result.size();) {
      const ssize_t n = ::write(fds[1], result.data() + done, result.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::_exit(0);  // No atexit handlers or gtest teardown in the child.
  }
  ::close(fds[1]);
  std::string result;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return "child killed by signal " + std::to_string(WTERMSIG(status));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child failed";
  return result;
}

#define EXPECT_CHILD_OK(result)                       \
  do {                                                \
    const std::string r = (result);                   \
    if (r.rfind("SKIP: ", 0) == 0) GTEST_SKIP() << r; \
    EXPECT_EQ(r, "");                                 \
  } while (0)

const char kOld[] = "old contents";

// Expects WriteFileAtomic(path, bytes) to throw an IoError naming `path` and the text of
// `expected_errno`, to leave `path` holding kOld and to leave no temp file. "" if all holds.
std::string CheckFailedWrite(const std::string& path, const std::string& bytes,
                             int expected_errno) {
  try {
    WriteFileAtomic(path, bytes);
    return "write to " + path + " succeeded";
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (e.code() != kExitIo) return "exit code " + std::to_string(e.code()) + ": " + msg;
    if (msg.find(path) == std::string::npos) return "message does not name the path: " + msg;
    if (msg.find(ErrnoText(expected_errno)) == std::string::npos) {
      return "message does not say '" + ErrnoText(expected_errno) + "': " + msg;
    }
  }
  if (ReadFileBytes(path) != kOld) return "the old file changed";
  if (Exists(path + ".tmp")) return "temp file left behind";
  return "";
}

TEST(WriteFileAtomicTest, RoundTripsBinaryContents) {
  TempDir dir;
  std::string bytes(1 << 20, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + (i >> 9));
  const std::string path = dir.File("data.bin");
  WriteFileAtomic(path, bytes);
  EXPECT_EQ(ReadFileBytes(path), bytes);
  EXPECT_FALSE(Exists(path + ".tmp"));
}

TEST(WriteFileAtomicTest, WritesEmptyFileAndPointerVariant) {
  TempDir dir;
  WriteFileAtomic(dir.File("empty"), "");
  EXPECT_EQ(ReadFileBytes(dir.File("empty")), "");
  const char raw[] = {'a', '\0', 'b'};
  WriteFileAtomic(dir.File("raw"), raw, sizeof raw);
  EXPECT_EQ(ReadFileBytes(dir.File("raw")), std::string(raw, sizeof raw));
}

TEST(WriteFileAtomicTest, ReplacesExistingFileAndStaleTemp) {
  TempDir dir;
  const std::string path = dir.File("f");
  WriteFileAtomic(path, "a much longer first version");
  WriteFileAtomic(path + ".tmp", "left over by a crash");
  WriteFileAtomic(path, "second");
  EXPECT_EQ(ReadFileBytes(path), "second");
  EXPECT_FALSE(Exists(path + ".tmp"));
}

TEST(WriteFileAtomicTest, CreatesMode0644BeforeUmask) {
  TempDir dir;
  const std::string path = dir.File("f");
  WriteFileAtomic(path, "x");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0644 & ~mask);
}

TEST(WriteFileAtomicTest, PathWithoutDirectoryUsesCurrentDirectory) {
  TempDir dir;
  EXPECT_CHILD_OK(RunInChild([&]() -> std::string {
    if (::chdir(dir.path().c_str()) != 0) return "chdir failed";
    WriteFileAtomic("plain", "x");
    return ReadFileBytes(dir.File("plain")) == "x" ? "" : "wrong contents";
  }));
}

TEST(WriteFileAtomicTest, ParentIsRegularFileThrowsIoError) {
  TempDir dir;
  WriteFileAtomic(dir.File("file"), kOld);
  const std::string path = dir.File("file/child");
  try {
    WriteFileAtomic(path, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitIo);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(ErrnoText(ENOTDIR)), std::string::npos) << e.what();
  }
  EXPECT_EQ(ReadFileBytes(dir.File("file")), kOld);
}

TEST(WriteFileAtomicTest, MissingDirectoryThrowsIoError) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/f");
  try {
    WriteFileAtomic(path, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitIo);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(ErrnoText(ENOENT)), std::string::npos) << e.what();
  }
}

// The write crosses RLIMIT_FSIZE: the first write(2) is short, the next fails with EFBIG. SIGXFSZ
// is reset to its default (kill) first, so this also shows WriteFileAtomic ignores it itself.
TEST(WriteFileAtomicTest, FileSizeLimitKeepsOldFile) {
  TempDir dir;
  const std::string path = dir.File("ckpt");
  WriteFileAtomic(path, kOld);
  EXPECT_CHILD_OK(RunInChild([&]() -> std::string {
    ::signal(SIGXFSZ, SIG_DFL);
    const rlimit limit{4096, 4096};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return "setrlimit failed";
    return CheckFailedWrite(path, std::string(1 << 20, 'n'), EFBIG);
  }));
  EXPECT_EQ(ReadFileBytes(path), kOld);
  EXPECT_FALSE(Exists(path + ".tmp"));
}

// Root ignores permission bits, so the child drops to nobody before writing into a 0555 directory.
TEST(WriteFileAtomicTest, ReadOnlyDirectoryKeepsOldFile) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);  // Let nobody reach the subdirectory.
  const std::string ro = dir.File("ro");
  ASSERT_EQ(::mkdir(ro.c_str(), 0755), 0);
  const std::string path = ro + "/ckpt";
  WriteFileAtomic(path, kOld);
  ASSERT_EQ(::chmod(ro.c_str(), 0555), 0);
  EXPECT_CHILD_OK(RunInChild([&]() -> std::string {
    if (::geteuid() == 0) {
      const uid_t nobody = 65534;
      if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0) {
        return "SKIP: cannot drop root privileges";
      }
    }
    return CheckFailedWrite(path, "new contents", EACCES);
  }));
  ::chmod(ro.c_str(), 0755);
  EXPECT_EQ(ReadFileBytes(path), kOld);
}

// A 64 KiB tmpfs in a private mount namespace of the child; needs CAP_SYS_ADMIN, else skipped.
TEST(WriteFileAtomicTest, FullDiskKeepsOldFile) {
  TempDir dir;
  const std::string small = dir.File("small");
  ASSERT_EQ(::mkdir(small.c_str(), 0755), 0);
  EXPECT_CHILD_OK(RunInChild([&]() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0) return "SKIP: no mount namespace: " + ErrnoText(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k") != 0) {
      return "SKIP: cannot mount a small tmpfs: " + ErrnoText(errno);
    }
    const std::string path = small + "/ckpt";
    WriteFileAtomic(path, kOld);
    return CheckFailedWrite(path, std::string(1 << 20, 'n'), ENOSPC);
  }));
}

TEST(IgnoreFileSizeSignalTest, IgnoresDefaultButKeepsProgramHandler) {
  EXPECT_CHILD_OK(RunInChild([]() -> std::string {
    ::signal(SIGXFSZ, SIG_DFL);
    IgnoreFileSizeSignal();
    struct sigaction now {};
    ::sigaction(SIGXFSZ, nullptr, &now);
    if (now.sa_handler != SIG_IGN) return "default disposition not replaced";

    void (*handler)(int) = [](int) {};
    ::signal(SIGXFSZ, handler);
    IgnoreFileSizeSignal();
    ::sigaction(SIGXFSZ, nullptr, &now);
    return now.sa_handler == handler ? "" : "program handler replaced";
  }));
}

TEST(SyncDirectoryTest, MissingDirectoryThrowsIoError) {
  TempDir dir;
  SyncDirectory(dir.path());
  try {
    SyncDirectory(dir.File("missing"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitIo);
    EXPECT_NE(std::string(e.what()).find(dir.File("missing")), std::string::npos) << e.what();
  }
}

TEST(ReadFileBytesTest, UnreadableInputIsUsageErrorNamingPath) {
  TempDir dir;
  for (const std::string& path : {dir.File("missing"), dir.path()}) {
    try {
      ReadFileBytes(path);
      FAIL() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kExitUsage);
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace dpmlp
