// Reading and writing against real special files, all made inside the test's temporary
// directory (never a real /dev path): a character device node made with mknod (major 1, minor 3,
// the null device), a FIFO, symbolic links, a block device node (never opened).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tests/temp_dir.h"

namespace dpmlp {
namespace {

using testing_util::TempDir;

mode_t TypeOf(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

// Expects `body` to throw an Error with `code` whose message holds `text`.
template <typename F>
void ExpectError(F body, int code, const std::string& text) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one with '" << text << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(SpecialFilesTest, CharacterDeviceIsWrittenInPlaceNotReplaced) {
  TempDir dir;
  const std::string dev = dir.File("null");
  if (::mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod needs CAP_MKNOD";
  WriteFileAtomic(dev, std::string(100000, 'm'));
  EXPECT_EQ(TypeOf(dev), static_cast<mode_t>(S_IFCHR)) << "the device node was replaced";
  EXPECT_EQ(TypeOf(dev + ".tmp"), 0u) << "a temp file was made next to a device";
  AppendRecord(dev, "{\"epoch\": 1}\n");
  EXPECT_EQ(TypeOf(dev), static_cast<mode_t>(S_IFCHR));
  CheckOutputPath("--save-model", dev, false);  // a writable device is a valid output
}

TEST(SpecialFilesTest, FifoIsWrittenInPlaceAndWithoutReaderFailsAtOnce) {
  TempDir dir;
  const std::string fifo = dir.File("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  ExpectError([&] { WriteFileAtomic(fifo, "x"); }, kExitIo, "a FIFO with no reader");

  std::string got;
  std::thread reader([&] {
    const int fd = ::open(fifo.c_str(), O_RDONLY);
    char buf[4096];
    for (ssize_t n; fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, n);
    if (fd >= 0) ::close(fd);
  });
  const std::string bytes(200000, 'f');  // larger than the pipe buffer: the writer must wait
  std::string error;
  for (int attempt = 0; attempt < 200; ++attempt) {  // until the reader has opened its end
    try {
      WriteFileAtomic(fifo, bytes);
      error.clear();
      break;
    } catch (const Error& e) {
      error = e.what();
      ::usleep(10000);
    }
  }
  reader.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(got, bytes);
  EXPECT_EQ(TypeOf(fifo), static_cast<mode_t>(S_IFIFO)) << "the FIFO was replaced";
}

TEST(SpecialFilesTest, SymlinkIsFollowedAndItsTargetReplaced) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("real").c_str(), 0755), 0);
  const std::string target = dir.Write("real/model.pb", "old");
  const std::string link = dir.File("link.pb");
  ASSERT_EQ(::symlink("real/model.pb", link.c_str()), 0);  // relative: from the link's folder
  const std::string chain = dir.File("chain.pb");
  ASSERT_EQ(::symlink(link.c_str(), chain.c_str()), 0);
  WriteFileAtomic(chain, "new");
  EXPECT_EQ(TypeOf(link), static_cast<mode_t>(S_IFLNK));
  EXPECT_EQ(TypeOf(chain), static_cast<mode_t>(S_IFLNK));
  EXPECT_EQ(ReadFileBytes(target), "new");
  EXPECT_EQ(TypeOf(target + ".tmp"), 0u);
  // A dangling link creates its target.
  const std::string dangling = dir.File("dangling.pb");
  ASSERT_EQ(::symlink("real/fresh.pb", dangling.c_str()), 0);
  WriteFileAtomic(dangling, "fresh");
  EXPECT_EQ(ReadFileBytes(dir.File("real/fresh.pb")), "fresh");
  // A loop is refused.
  const std::string loop = dir.File("loop");
  ASSERT_EQ(::symlink("loop", loop.c_str()), 0);
  ExpectError([&] { WriteFileAtomic(loop, "x"); }, kExitIo, "symbolic links");
}

TEST(SpecialFilesTest, DirectoryBlockDeviceAndSquattedTempAreRefused) {
  TempDir dir;
  ExpectError([&] { WriteFileAtomic(dir.path(), "x"); }, kExitIo, "it is a directory");
  ExpectError([&] { CheckOutputPath("--metrics", dir.path(), true); }, kExitUsage,
              "--metrics " + dir.path() + ": it is a directory");
  const std::string link = dir.File("to-dir");
  ASSERT_EQ(::symlink(dir.path().c_str(), link.c_str()), 0);
  ExpectError([&] { WriteFileAtomic(link, "x"); }, kExitIo, "it is a directory");

  const std::string blk = dir.File("disk");
  if (::mknod(blk.c_str(), S_IFBLK | 0600, makedev(7, 250)) == 0) {  // never opened
    ExpectError([&] { WriteFileAtomic(blk, "x"); }, kExitIo, "block device");
    EXPECT_EQ(TypeOf(blk), static_cast<mode_t>(S_IFBLK));
  }
  // A symbolic link squatting on the temp name is not followed (it could point anywhere).
  const std::string victim = dir.Write("victim", "precious");
  const std::string out = dir.File("out.pb");
  ASSERT_EQ(::symlink(victim.c_str(), (out + ".tmp").c_str()), 0);
  ExpectError([&] { WriteFileAtomic(out, "x"); }, kExitIo, "is not a regular file");
  EXPECT_EQ(ReadFileBytes(victim), "precious");
  EXPECT_EQ(TypeOf(out), 0u);
}

TEST(SpecialFilesTest, CheckOutputPathNamesMissingFolder) {
  TempDir dir;
  ExpectError([&] { CheckOutputPath("--save-model", dir.File("no/m.pb"), false); }, kExitUsage,
              "--save-model " + dir.File("no/m.pb") + ": the directory " + dir.File("no") +
                  " does not exist");
  CheckOutputPath("--save-model", dir.File("m.pb"), false);
}

// Defect 10: a record cut by RLIMIT_FSIZE is removed, so the file holds whole lines only.
TEST(AppendRecordTest, CutRecordIsRemovedAndPartialLineDropped) {
  TempDir dir;
  const std::string path = dir.File("metrics.jsonl");
  AppendRecord(path, "{\"epoch\": 1}\n");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_DFL);
    const rlimit limit{20, 20};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      AppendRecord(path, "{\"epoch\": 2, \"long\": \"" + std::string(100, 'x') + "\"}\n");
    } catch (const Error& e) {
      ::_exit(std::string(e.what()).find("partial record was removed") != std::string::npos ? 7
                                                                                            : 8);
    }
    ::_exit(9);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_EQ(ReadFileBytes(path), "{\"epoch\": 1}\n");

  // A partial line (from a writer without this protection, or a crash) is dropped on request.
  EXPECT_EQ(DropPartialLastLine(path), 0u);
  AppendRecord(path, "{\"epoch\": 2, \"tra");
  EXPECT_EQ(DropPartialLastLine(path), 17u);
  EXPECT_EQ(ReadFileBytes(path), "{\"epoch\": 1}\n");
  const std::string whole = dir.Write("one-partial", "no newline at all");
  EXPECT_EQ(DropPartialLastLine(whole), 17u);
  EXPECT_EQ(ReadFileBytes(whole), "");
  EXPECT_EQ(DropPartialLastLine(dir.File("missing")), 0u);
}

}  // namespace
}  // namespace dpmlp
