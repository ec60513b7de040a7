#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/dataset.h"
#include "tests/core/data_test_util.h"

namespace dpmlp {
namespace {

using testing_util::ExpectUsageError;
using testing_util::TempDir;

TEST(CsvTest, ClassificationLabelFirst) {
  TempDir dir;
  const std::string p = dir.Write("a.csv", "2,0.5,-1\n0, 1e3 ,+4\r\n1,7,8");
  const Dataset d = LoadCsv(p, 0);
  EXPECT_EQ(d.source, p);
  EXPECT_EQ(d.size, 3u);
  EXPECT_EQ(d.input_dim, 2u);
  EXPECT_EQ(d.num_classes, 3);  // inferred: 1 + largest label
  EXPECT_EQ(d.labels, (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(d.values, (std::vector<float>{0.5f, -1.0f, 1000.0f, 4.0f, 7.0f, 8.0f}));
  EXPECT_TRUE(d.pixels.empty());
  EXPECT_EQ(d.image_height, 0);
  EXPECT_EQ(d.target_dim, 0u);
}

TEST(CsvTest, GivenClassCountAndIntegerValuedLabel) {
  TempDir dir;
  const Dataset d = LoadCsv(dir.Write("a.csv", "1.0,3\n0,4\n"), 0, 5);
  EXPECT_EQ(d.num_classes, 5);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{1, 0}));
}

TEST(CsvTest, RegressionTargetsFirst) {
  TempDir dir;
  const Dataset d = LoadCsv(dir.Write("r.csv", "1.5,-2,10,20,30\r\n0.25,3,11,21,31\r\n"), 2);
  EXPECT_FALSE(d.is_classification());
  EXPECT_EQ(d.size, 2u);
  EXPECT_EQ(d.target_dim, 2u);
  EXPECT_EQ(d.input_dim, 3u);
  EXPECT_EQ(d.targets, (std::vector<float>{1.5f, -2.0f, 0.25f, 3.0f}));
  EXPECT_EQ(d.values, (std::vector<float>{10, 20, 30, 11, 21, 31}));
}

TEST(CsvTest, TrailingBlankLinesAllowed) {
  TempDir dir;
  EXPECT_EQ(LoadCsv(dir.Write("a.csv", "1,2\n\n\r\n"), 0).size, 1u);
}

TEST(CsvTest, BadInputsNameFileAndLine) {
  TempDir dir;
  struct Case {
    std::string text;
    int target_columns;
    int num_classes;
    std::string where;  // expected ":LINE" suffix after the path
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"1,2,3\n0,1\n", 0, 0, ":2:", "ragged row"},
      {"1,2\n0,1,5\n", 0, 0, ":2:", "ragged row"},
      {"1,2\n0,abc\n", 0, 0, ":2:", "'abc' is not a number"},
      {"1,2\n0,1.5x\n", 0, 0, ":2:", "not a number"},
      {"1,2\n0,\n", 0, 0, ":2:", "not a number"},
      {"1,2\n1,2\n0,nan\n", 0, 0, ":3:", "NaN or Inf"},
      {"1,inf\n", 0, 0, ":1:", "NaN or Inf"},
      {"1,-Infinity\n", 0, 0, ":1:", "NaN or Inf"},
      {"1,1e999\n", 0, 0, ":1:", "NaN or Inf"},
      {"nan,1\n", 1, 0, ":1:", "NaN or Inf"},
      {"1,2\n-1,2\n", 0, 0, ":2:", "negative label"},
      {"1,2\n1.5,2\n", 0, 0, ":2:", "non-integer label"},
      {"1,2\n3,2\n", 0, 3, ":2:", "out of range [0, 3)"},
      {"1,2\n\n1,2\n", 0, 0, ":2:", "empty line"},
      {"", 0, 0, ":1:", "empty file"},
      {"\n\n", 0, 0, ":1:", "empty file"},
      {"1\n", 0, 0, ":1:", "at least one feature"},
      {"1,2\n", 2, 0, ":1:", "2 targets and at least one feature"},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    SCOPED_TRACE("case " + std::to_string(k) + ": " + c.text);
    const std::string p = dir.Write("bad" + std::to_string(k) + ".csv", c.text);
    ExpectUsageError([&] { LoadCsv(p, c.target_columns, c.num_classes); },
                     {p + c.where, c.fragment});
  }
}

TEST(CsvTest, MissingFile) {
  TempDir dir;
  const std::string p = dir.File("none.csv");
  ExpectUsageError([&] { LoadCsv(p, 0); }, {p, "cannot open"});
}

}  // namespace
}  // namespace dpmlp
