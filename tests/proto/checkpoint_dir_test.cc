// Naming, listing, choosing and pruning checkpoints in a real directory.
#include "proto/checkpoint_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "proto/framed_file.h"
#include "tests/temp_dir.h"

namespace dpmlp {
namespace {

using testing_util::TempDir;

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string PayloadFor(int64_t step) { return "state at step " + std::to_string(step); }

void WriteCheckpoint(const std::string& dir, int64_t step) {
  WriteFramedFile(CheckpointPath(dir, step), FramedKind::kCheckpoint, PayloadFor(step));
}

std::vector<int64_t> Steps(const std::vector<CheckpointEntry>& entries) {
  std::vector<int64_t> steps;
  for (const CheckpointEntry& e : entries) {
    EXPECT_EQ(e.path, CheckpointPath(e.path.substr(0, e.path.rfind('/')), e.step));
    steps.push_back(e.step);
  }
  return steps;
}

// Records what FindNewestValid reports; `load` accepts payloads that name their step correctly.
struct Recorder {
  std::vector<std::string> warnings;
  std::vector<std::string> loaded;

  bool Find(const std::string& dir, CheckpointEntry* found) {
    return FindNewestValid(
        dir,
        [this](const std::string& path, const std::string& payload) {
          loaded.push_back(path);
          if (payload.rfind("state at step ", 0) != 0) throw UsageError(path + ": not a state");
        },
        [this](const std::string& warning) { warnings.push_back(warning); }, found);
  }
};

TEST(CheckpointPathTest, ZeroPadsToTenDigits) {
  EXPECT_EQ(CheckpointPath("/runs/a", 42), "/runs/a/ckpt-0000000042.pb");
  EXPECT_EQ(CheckpointPath("/runs/a/", 0), "/runs/a/ckpt-0000000000.pb");
  EXPECT_EQ(CheckpointPath("rel", 12345678901), "rel/ckpt-12345678901.pb");
  try {
    CheckpointPath("d", -1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitInternal);
  }
}

TEST(EnsureDirectoryTest, CreatesParentsAndAcceptsExisting) {
  TempDir tmp;
  const std::string dir = tmp.File("a/b/c");
  EnsureDirectory(dir);
  EnsureDirectory(dir);
  EnsureDirectory(dir + "/");
  WriteCheckpoint(dir, 1);
  EXPECT_TRUE(Exists(CheckpointPath(dir, 1)));
}

TEST(EnsureDirectoryTest, FileInTheWayIsIoErrorNamingDirectory) {
  TempDir tmp;
  WriteFileAtomic(tmp.File("file"), "x");
  for (const std::string& dir : {tmp.File("file"), tmp.File("file/sub")}) {
    try {
      EnsureDirectory(dir);
      FAIL() << "no error for " << dir;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kExitIo);
      EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
    }
  }
}

TEST(ListCheckpointsTest, SortsByStepAndIgnoresOtherNames) {
  TempDir tmp;
  const std::string dir = tmp.path();
  for (int64_t step : {int64_t{100}, int64_t{3}, int64_t{12345678901}, int64_t{20}})
    WriteCheckpoint(dir, step);
  for (const char* decoy :
       {"ckpt-0000000005.pb.tmp", "ckpt-12.pb", "ckpt-000000000x.pb", "ckpt-00000000007.pb",
        "ckpt-0000000007.pbx", "xckpt-0000000008.pb", "ckpt-.pb", "notes.txt"}) {
    WriteFileAtomic(tmp.File(decoy), "decoy");
  }
  EXPECT_EQ(Steps(ListCheckpoints(dir)), (std::vector<int64_t>{3, 20, 100, 12345678901}));
}

TEST(ListCheckpointsTest, MissingDirectoryIsEmpty) {
  TempDir tmp;
  EXPECT_TRUE(ListCheckpoints(tmp.File("missing")).empty());
}

TEST(ListCheckpointsTest, FileInsteadOfDirectoryIsIoError) {
  TempDir tmp;
  WriteFileAtomic(tmp.File("file"), "x");
  try {
    ListCheckpoints(tmp.File("file"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitIo);
    EXPECT_NE(std::string(e.what()).find(tmp.File("file")), std::string::npos) << e.what();
  }
}

TEST(FindNewestValidTest, TakesNewestGoodCheckpoint) {
  TempDir tmp;
  for (int64_t step : {10, 20, 30}) WriteCheckpoint(tmp.path(), step);
  WriteFileAtomic(CheckpointPath(tmp.path(), 40) + ".tmp", "interrupted write");
  Recorder r;
  CheckpointEntry found{};
  ASSERT_TRUE(r.Find(tmp.path(), &found));
  EXPECT_EQ(found.step, 30);
  EXPECT_EQ(found.path, CheckpointPath(tmp.path(), 30));
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.loaded, (std::vector<std::string>{found.path}));
}

TEST(FindNewestValidTest, SkipsCorruptNewestAndWarnsByName) {
  TempDir tmp;
  for (int64_t step : {10, 20, 30}) WriteCheckpoint(tmp.path(), step);
  const std::string newest = CheckpointPath(tmp.path(), 30);
  std::string bytes = ReadFileBytes(newest);
  bytes[bytes.size() - 1] ^= 0x01;
  WriteFileAtomic(newest, bytes);

  Recorder r;
  CheckpointEntry found{};
  ASSERT_TRUE(r.Find(tmp.path(), &found));
  EXPECT_EQ(found.step, 20);
  EXPECT_EQ(r.warnings, (std::vector<std::string>{"skipping corrupt checkpoint " + newest +
                                                  ": CRC mismatch (corrupt payload)"}));
  EXPECT_EQ(r.loaded, (std::vector<std::string>{CheckpointPath(tmp.path(), 20)}));
}

TEST(FindNewestValidTest, SkipsWhatLoadRejectsAndTruncatedFiles) {
  TempDir tmp;
  WriteCheckpoint(tmp.path(), 1);
  WriteFramedFile(CheckpointPath(tmp.path(), 2), FramedKind::kCheckpoint, "garbage");
  WriteFileAtomic(CheckpointPath(tmp.path(), 3), "");
  WriteFramedFile(CheckpointPath(tmp.path(), 4), FramedKind::kModel, PayloadFor(4));

  Recorder r;
  CheckpointEntry found{};
  ASSERT_TRUE(r.Find(tmp.path(), &found));
  EXPECT_EQ(found.step, 1);
  ASSERT_EQ(r.warnings.size(), 3u);
  const std::string prefix = "skipping corrupt checkpoint ";
  EXPECT_EQ(r.warnings[0], prefix + CheckpointPath(tmp.path(), 4) +
                               ": wrong magic (not a dpmlp checkpoint file): it is a dpmlp model "
                               "file");
  EXPECT_EQ(r.warnings[1], prefix + CheckpointPath(tmp.path(), 3) + ": empty file");
  EXPECT_EQ(r.warnings[2], prefix + CheckpointPath(tmp.path(), 2) + ": not a state");
}

TEST(FindNewestValidTest, FalseWhenNothingValid) {
  TempDir tmp;
  Recorder r;
  CheckpointEntry found{7, "untouched"};
  EXPECT_FALSE(r.Find(tmp.File("missing"), &found));
  EXPECT_FALSE(r.Find(tmp.path(), &found));
  EXPECT_TRUE(r.warnings.empty());

  WriteFileAtomic(CheckpointPath(tmp.path(), 5), "junk");
  EXPECT_FALSE(r.Find(tmp.path(), &found));
  EXPECT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(found.step, 7);
  EXPECT_EQ(found.path, "untouched");
}

TEST(FindNewestValidTest, BugsInLoadPropagate) {
  TempDir tmp;
  WriteCheckpoint(tmp.path(), 1);
  const auto load = [](const std::string&, const std::string&) { throw InternalError("bug"); };
  try {
    FindNewestValid(
        tmp.path(), load, [](const std::string&) {}, nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitInternal);
  }
}

// A pruner whose check accepts what WriteCheckpoint writes ("state at step N" for the file's N).
struct PrunerFixture {
  std::vector<std::string> warnings;
  CheckpointPruner Make(const std::string& dir, int keep) {
    return CheckpointPruner(
        dir, keep,
        [](const std::string& path, const std::string& payload) {
          if (payload.rfind("state at step ", 0) != 0) throw UsageError(path + ": another run's");
        },
        [this](const std::string& w) { warnings.push_back(w); });
  }
};

TEST(CheckpointPrunerTest, KeepsNewestAndRemovesStaleTemps) {
  TempDir tmp;
  const std::string dir = tmp.path();
  for (int64_t step = 1; step <= 5; ++step) WriteCheckpoint(dir, step);
  WriteFileAtomic(CheckpointPath(dir, 7) + ".tmp", "interrupted");
  WriteFileAtomic(tmp.File("notes.tmp"), "not ours");
  WriteFileAtomic(tmp.File("other.txt"), "not ours");

  PrunerFixture f;
  CheckpointPruner pruner = f.Make(dir, 3);
  WriteCheckpoint(dir, 6);
  pruner.Prune(6);
  EXPECT_EQ(Steps(ListCheckpoints(dir)), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_FALSE(Exists(CheckpointPath(dir, 7) + ".tmp"));
  EXPECT_TRUE(Exists(tmp.File("notes.tmp")));
  EXPECT_TRUE(Exists(tmp.File("other.txt")));
  EXPECT_TRUE(f.warnings.empty());

  CheckpointPruner one = f.Make(dir, 1);
  WriteCheckpoint(dir, 7);
  one.Prune(7);
  EXPECT_EQ(Steps(ListCheckpoints(dir)), (std::vector<int64_t>{7}));
  EXPECT_EQ(ReadFramedFile(CheckpointPath(dir, 7), FramedKind::kCheckpoint), PayloadFor(7));
}

// A junk, foreign or higher-step file under a checkpoint name used to count
// for --keep, so with --keep 1 every checkpoint the run wrote was deleted at once.
TEST(CheckpointPrunerTest, NeverCountsOrRemovesFilesThatAreNotThisRunsOwn) {
  TempDir tmp;
  const std::string dir = tmp.path();
  const std::string junk = CheckpointPath(dir, 99999);
  WriteFileAtomic(junk, "junk, not a frame");
  const std::string foreign = CheckpointPath(dir, 3);
  WriteFramedFile(foreign, FramedKind::kCheckpoint, "another run's state");
  const std::string higher = CheckpointPath(dir, 88888);
  WriteCheckpoint(dir, 88888);  // valid, but beyond this run's step
  WriteCheckpoint(dir, 1);      // this run's, from before a resume

  PrunerFixture f;
  CheckpointPruner pruner = f.Make(dir, 1);
  for (int64_t step = 10; step <= 12; ++step) {
    WriteCheckpoint(dir, step);
    pruner.Prune(step);
    EXPECT_TRUE(Exists(CheckpointPath(dir, step))) << "pruned the checkpoint it just wrote";
  }
  EXPECT_EQ(Steps(ListCheckpoints(dir)), (std::vector<int64_t>{3, 12, 88888, 99999}));
  EXPECT_EQ(ReadFileBytes(junk), "junk, not a frame");
  // Each skipped file is named once, with the reason.
  ASSERT_EQ(f.warnings.size(), 3u);
  auto warned = [&](const std::string& path, const std::string& why) {
    return std::count_if(f.warnings.begin(), f.warnings.end(), [&](const std::string& w) {
             return w.find(path) != std::string::npos && w.find(why) != std::string::npos;
           }) == 1;
  };
  EXPECT_TRUE(warned(junk, "above this run's 10")) << f.warnings[0];
  EXPECT_TRUE(warned(higher, "above this run's 10"));
  EXPECT_TRUE(warned(foreign, "another run's"));
}

TEST(CheckpointPrunerTest, MissingDirectoryIsNoOpAndKeepBelowOneIsBug) {
  TempDir tmp;
  PrunerFixture f;
  f.Make(tmp.File("missing"), 2).Prune(1);
  try {
    f.Make(tmp.path(), 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitInternal);
  }
}

}  // namespace
}  // namespace dpmlp
