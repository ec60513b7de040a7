// The checkpoint-directory lock, and framed files whose header is
// checked against the real file size before a byte of the payload is read.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "proto/checkpoint_dir.h"
#include "proto/checkpoint_lock.h"
#include "proto/framed_file.h"
#include "tests/temp_dir.h"

namespace dpmlp {
namespace {

using testing_util::TempDir;

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string ErrorOf(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return std::to_string(e.code()) + " " + e.what();
  }
  return "no error";
}

// flock locks belong to open files, so a second lock in the same process conflicts like a second
// process would.
TEST(CheckpointDirLockTest, SecondLockIsRefusedNamingDirectoryHostAndPid) {
  TempDir tmp;
  const std::string dir = tmp.File("run");
  {
    CheckpointDirLock first(dir);
    EXPECT_EQ(first.warning(), "");
    const std::string lockfile = dir + "/" + CheckpointDirLock::kFileName;
    EXPECT_NE(ReadFileBytes(lockfile).find("pid " + std::to_string(::getpid())), std::string::npos)
        << ReadFileBytes(lockfile);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string error = ErrorOf([&] { CheckpointDirLock second(dir); });
    EXPECT_EQ(error.rfind("2 checkpoint directory " + dir + " is in use", 0), 0u) << error;
    EXPECT_NE(error.find(std::string("host ") + host + " pid " + std::to_string(::getpid())),
              std::string::npos)
        << error;
    EXPECT_NE(error.find(lockfile), std::string::npos) << error;
    WriteFileAtomic(CheckpointPath(dir, 1), "x");
  }
  // Released, and its file removed; the folder stays because it holds a file.
  EXPECT_FALSE(Exists(dir + "/" + CheckpointDirLock::kFileName));
  EXPECT_TRUE(Exists(CheckpointPath(dir, 1)));
  { CheckpointDirLock again(dir); }
  // A folder the lock created and nothing was written to is removed with it.
  const std::string fresh = tmp.File("a/b");
  { CheckpointDirLock lock(fresh); }
  EXPECT_FALSE(Exists(fresh));
  EXPECT_TRUE(Exists(tmp.File("a")));
}

TEST(CheckpointDirLockTest, StaleLockFileOfAKilledRunIsTakenOver) {
  TempDir tmp;
  tmp.Write(CheckpointDirLock::kFileName, "host elsewhere pid 1\n");
  CheckpointDirLock lock(tmp.path());
  EXPECT_NE(ReadFileBytes(lock.path()).find("pid " + std::to_string(::getpid())),
            std::string::npos);
}

// Defect 9: a 30 GB sparse file under a checkpoint name cost std::bad_alloc (and a 4 GB one 25 s
// and 4 GB of memory) before the header was looked at. Made with ftruncate, like truncate(1).
TEST(FramedHeaderFirstTest, HugeSparseFilesAreRejectedFromTheHeaderAlone) {
  TempDir tmp;
  const uint64_t huge = uint64_t{30} << 30;
  const std::string zeros = tmp.File("ckpt-0000099999.pb");
  {
    const int fd = ::open(zeros.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    if (::ftruncate(fd, static_cast<off_t>(huge)) != 0) GTEST_SKIP() << "no sparse files here";
    ::close(fd);
  }
  // A valid header whose length matches the 30 GB: only the payload bound stops it.
  std::string frame = FrameBytes(FramedKind::kCheckpoint, "");
  const uint64_t length = huge - kFramedHeaderBytes;
  for (int i = 0; i < 8; ++i) frame[12 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  const std::string framed = tmp.Write("framed.pb", frame);
  ASSERT_EQ(::truncate(framed.c_str(), static_cast<off_t>(huge)), 0);

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(ErrorOf([&] { ReadFramedFile(zeros, FramedKind::kCheckpoint); }),
            "2 " + zeros + ": wrong magic (not a dpmlp checkpoint file)");
  EXPECT_EQ(ErrorOf([&] { ReadFramedFile(framed, FramedKind::kCheckpoint, 1 << 20); }),
            "2 " + framed + ": payload of " + std::to_string(length) +
                " bytes is more than 1048576 bytes, the most a checkpoint here can hold (a huge or "
                "sparse file?)");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 5.0) << "read the payload of a sparse file";

  // Skipped by name when resuming; the valid checkpoint below it is used.
  const std::string dir = tmp.path();
  WriteFramedFile(CheckpointPath(dir, 5), FramedKind::kCheckpoint, "good");
  ASSERT_EQ(::rename(framed.c_str(), CheckpointPath(dir, 88888).c_str()), 0);
  std::vector<std::string> warnings;
  CheckpointEntry found{};
  ASSERT_TRUE(FindNewestValid(
      dir, [](const std::string&, const std::string&) {},
      [&](const std::string& w) { warnings.push_back(w); }, &found, 1 << 20));
  EXPECT_EQ(found.step, 5);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find(CheckpointPath(dir, 99999) + ": wrong magic"), std::string::npos);
  EXPECT_NE(warnings[1].find(CheckpointPath(dir, 88888) + ": payload of"), std::string::npos);
}

TEST(FramedHeaderFirstTest, FifoAndDirectoryAreRefusedWithoutWaiting) {
  TempDir tmp;
  const std::string fifo = tmp.File("ckpt.pb");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(ErrorOf([&] { ReadFramedFile(fifo, FramedKind::kCheckpoint); }),
            "2 " + fifo + ": not a regular file (a FIFO or a device?)");
  EXPECT_EQ(ErrorOf([&] { ReadFramedFile(tmp.path(), FramedKind::kModel); }),
            "2 " + tmp.path() + ": is a directory");
}

}  // namespace
}  // namespace dpmlp
