// DropMetricsAfterEpoch on real files: what a resumed run keeps of the interrupted attempt's
// metrics lines.
#include "dist/metrics_file.h"

#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "tests/temp_dir.h"

namespace dpmlp {
namespace {

using testing_util::TempDir;

std::string Line(int epoch) {
  return "{\"epoch\":" + std::to_string(epoch) + ",\"step\":" + std::to_string(10 * epoch) +
         ",\"test_accuracy\":0.5}\n";
}

TEST(MetricsFileTest, DropsTheEpochsPastTheCheckpointAndATornLine) {
  TempDir dir;
  const std::string path = dir.Write("m.jsonl", Line(1) + Line(2) + Line(3) + "{\"epoch\":4,\"st");
  EXPECT_EQ(DropMetricsAfterEpoch(path, 2), 2);
  EXPECT_EQ(ReadFileBytes(path), Line(1) + Line(2));
  EXPECT_EQ(DropMetricsAfterEpoch(path, 2), 0);  // nothing left to drop: file unchanged
  EXPECT_EQ(ReadFileBytes(path), Line(1) + Line(2));
}

TEST(MetricsFileTest, KeepsLinesThatAreNotEpochMetrics) {
  TempDir dir;
  const std::string other = "# notes by hand\n{\"note\":\"x\"}\n";
  const std::string path = dir.Write("m.jsonl", other + Line(1) + Line(5));
  EXPECT_EQ(DropMetricsAfterEpoch(path, 1), 1);
  EXPECT_EQ(ReadFileBytes(path), other + Line(1));
}

TEST(MetricsFileTest, MissingFileDropsNothing) {
  TempDir dir;
  EXPECT_EQ(DropMetricsAfterEpoch(dir.File("none.jsonl"), 0), 0);
}

}  // namespace
}  // namespace dpmlp
