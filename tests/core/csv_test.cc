#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

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

// --csv-header: the header row is checked and skipped; the data read are exactly those of the
// same file without it, for labels, targets and inputs alike.
void ExpectSameData(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.input_dim, b.input_dim);
  EXPECT_EQ(a.num_classes, b.num_classes);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.target_dim, b.target_dim);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_EQ(a.values, b.values);
}

TEST(CsvHeaderTest, SkippedAfterCheckingGivingTheSameData) {
  TempDir dir;
  const std::string rows = "2,0.5,-1\n0,1e3,+4\r\n1,7,8\n";
  const Dataset plain = LoadCsv(dir.Write("plain.csv", rows), 0);
  for (const char* header : {"label,x1,x2\n", "label , x1,x2\r\n",
                             "\xef\xbb\xbf\"label\",\"x, one\",\"say \"\"hi\"\"\"\n",
                             "0,1,2\n" /* pandas' names of unnamed columns */, "y,1,2\n"}) {
    SCOPED_TRACE(header);
    const std::string p = dir.Write("h.csv", header + rows);
    ExpectSameData(LoadCsv(p, 0, 0, true), plain);
  }
  const std::string targets = dir.Write("t.csv", "y1,y2,a\n1.5,-2,10\n0.25,3,11\n");
  ExpectSameData(LoadCsv(targets, 2, 0, true),
                 LoadCsv(dir.Write("t0.csv", "1.5,-2,10\n0.25,3,11\n"), 2));
  const std::string inputs = dir.Write("i.csv", "a,b\n1,2\n3,4\n");
  ExpectSameData(LoadCsvInputs(inputs, 2, true),
                 LoadCsvInputs(dir.Write("i0.csv", "1,2\n3,4\n"), 2));
}

TEST(CsvHeaderTest, BadHeadersNameFileAndLine) {
  TempDir dir;
  struct Case {
    std::string text, where, fragment;
  };
  const std::vector<Case> cases = {
      {"label,x1\n1,2,3\n", ":1:", "the header names 2 columns, but line 2 has 3"},
      {"label,x1,x2,x3\n1,2,3\n", ":1:", "names 4 columns, but line 2 has 3"},
      {"a,\"b,c\"\n1,2,3\n", ":1:", "names 2 columns, but line 2 has 3"},
      {"label,x\n1,2\n1,2,3\n", ":3:", "ragged row: 3 fields, expected 2"},
      {"label,,x2\n1,2,3\n", ":1:", "column 2 of the header has no name"},
      {",x1,x2\n1,2,3\n", ":1:", "column 1 of the header"},
      {"label,x1, \n1,2,3\n", ":1:", "column 3 of the header"},
      {"label,x1,\"\"\n1,2,3\n", ":1:", "column 3 of the header"},
      {"1,2,3\n0,5,6\n", ":1:", "this row is all numbers ('1,2,3')"},
      {"1,0.5,-1e3\n", ":1:", "a data row, not a header?"},
      {"1,2,3\n", ":1:", "all numbers"},  // not pandas' 0,1,2
      {"label,x1,x2\n", ":2:", "no data rows after the header"},
      {"label,x1,x2\n\n\n", ":2:", "no data rows after the header"},
      {"", ":1:", "empty file"},
      {"\nlabel,x\n1,2\n", ":1:", "empty line"},
      {"label,x\nabc,2\n", ":2:", "'abc' is not a number"},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    SCOPED_TRACE("case " + std::to_string(k) + ": " + c.text);
    const std::string p = dir.Write("bad" + std::to_string(k) + ".csv", c.text);
    ExpectUsageError([&] { LoadCsv(p, 0, 0, true); }, {p + c.where, c.fragment});
  }
}

// "-" is standard input, read to its end and named <stdin> in messages.
TEST(CsvStdinTest, DashReadsStandardInput) {
  TempDir dir;
  const int saved = ::dup(STDIN_FILENO);
  ASSERT_GE(saved, 0);
  auto from = [&](const std::string& text) {
    const int fd = ::open(dir.Write("in.csv", text).c_str(), O_RDONLY);
    ::dup2(fd, STDIN_FILENO);
    ::close(fd);
  };
  from("a,b\n1,2\n3,4\n");
  ExpectSameData(LoadCsvInputs("-", 2, true), LoadCsvInputs(dir.Write("f.csv", "1,2\n3,4\n"), 2));
  from("1,2\n3\n");
  ExpectUsageError([&] { LoadCsvInputs("-", 2); }, {"<stdin>:2: ragged row"});
  from("1,2,3\n");
  ExpectUsageError([&] { LoadCsvInputs("-", 2); }, {"<stdin>:1: 3 fields per row"});
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
}

}  // namespace
}  // namespace dpmlp
