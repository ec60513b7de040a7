// .npy input and memory-mapped inputs: files are built byte by byte from the format's
// definition (magic, version, little-endian header length, a Python dict literal padded so the
// data starts on a 64-byte boundary), then loaded as a data set.
#include "core/npy.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "tests/core/data_test_util.h"

namespace dpmlp {
namespace {

using testing_util::ExpectUsageError;
using testing_util::TempDir;

// The bytes of a .npy file of format `major`.0 holding `data` under the given header fields.
std::string Npy(const std::string& descr, const std::string& shape, const std::string& data,
                int major = 1, const std::string& order = "False") {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  for (size_t k = 0; k < prefix - 8; ++k) out += static_cast<char>((dict.size() >> (8 * k)) & 255);
  return out + dict + data;
}

template <class T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

TEST(NpyTest, Uint8ImagesWithInt64LabelsAreMappedInPlace) {
  TempDir dir;
  std::vector<uint8_t> px(3 * 2 * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(7 * i + 3);
  const std::vector<int64_t> y{2, 0, 5};
  const std::string xf = dir.Write("x.npy", Npy("|u1", "(3, 2, 4)", Bytes(px)));
  const std::string yf = dir.Write("y.npy", Npy("<i8", "(3,)", Bytes(y)));
  const Dataset d = LoadNpy(xf, yf);
  EXPECT_EQ(d.size, 3u);
  EXPECT_EQ(d.input_dim, 8u);
  EXPECT_EQ(d.image_height, 2);
  EXPECT_EQ(d.image_width, 4);
  EXPECT_TRUE(d.pixels.is_view()) << "a regular file's pixels are used where they are mapped";
  EXPECT_EQ(d.pixels, px);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{2, 0, 5}));
  EXPECT_EQ(d.num_classes, 6);  // 1 + the largest label
  EXPECT_EQ(d.feature(2, 7), static_cast<float>(px[23]));
}

TEST(NpyTest, Float32FeaturesWithFloatTargetsAndEveryFormatVersion) {
  TempDir dir;
  const std::vector<float> x{0.5f, -1.0f, 3.25f, 4.0f, 1e-7f, -8.0f};
  const std::vector<double> t{1.0, -2.5, 0.125, 7.0};
  for (int major : {1, 2, 3}) {
    const std::string v = std::to_string(major);
    const std::string xf = dir.Write("x" + v + ".npy", Npy("<f4", "(2, 3)", Bytes(x), major));
    const std::string yf = dir.Write("t" + v + ".npy", Npy("<f8", "(2, 2)", Bytes(t), major));
    const Dataset d = LoadNpy(xf, yf);
    EXPECT_EQ(d.size, 2u);
    EXPECT_EQ(d.input_dim, 3u);
    EXPECT_TRUE(d.values.is_view());
    EXPECT_EQ(d.values, x);
    EXPECT_FALSE(d.is_classification());
    EXPECT_EQ(d.target_dim, 2u);
    EXPECT_EQ(d.targets, (std::vector<float>{1.0f, -2.5f, 0.125f, 7.0f}));
  }
}

TEST(NpyTest, NarrowIntegerLabelsAndOneDimensionalFeatures) {
  TempDir dir;
  const std::string xf =
      dir.Write("x.npy", Npy("<f4", "(4,)", Bytes(std::vector<float>{1, 2, 3, 4})));
  for (const auto& [descr, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"|u1", Bytes(std::vector<uint8_t>{1, 0, 3, 2})},
           {"<i2", Bytes(std::vector<int16_t>{1, 0, 3, 2})},
           {"<u4", Bytes(std::vector<uint32_t>{1, 0, 3, 2})}}) {
    const Dataset d = LoadNpy(xf, dir.Write("y.npy", Npy(descr, "(4,)", bytes)), 4);
    EXPECT_EQ(d.input_dim, 1u) << descr;
    EXPECT_EQ(d.labels, (std::vector<int32_t>{1, 0, 3, 2})) << descr;
    EXPECT_EQ(d.num_classes, 4) << descr;
  }
}

TEST(NpyTest, WritingToAMappedBufferCopiesItAndLeavesTheFileAlone) {
  TempDir dir;
  const std::vector<uint8_t> px{1, 2, 3, 4};
  const std::string bytes = Npy("|u1", "(2, 2)", Bytes(px));
  const std::string xf = dir.Write("x.npy", bytes);
  const std::string yf = dir.Write("y.npy", Npy("<i8", "(2,)", Bytes(std::vector<int64_t>{0, 1})));
  Dataset d = LoadNpy(xf, yf);
  ASSERT_TRUE(d.pixels.is_view());
  d.pixels[0] = 200;
  EXPECT_FALSE(d.pixels.is_view());
  EXPECT_EQ(d.pixels, (std::vector<uint8_t>{200, 2, 3, 4}));
  std::ifstream in(xf, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), bytes);
}

TEST(NpyTest, BadFilesAreRefusedNamingTheFileAndTheProblem) {
  TempDir dir;
  const std::string y2 = dir.Write("y2.npy", Npy("<i8", "(2,)", Bytes(std::vector<int64_t>{0, 1})));
  const std::string x2 = dir.Write("x2.npy", Npy("<f4", "(2, 1)", Bytes(std::vector<float>{1, 2})));
  const std::string f4x2 = Bytes(std::vector<float>{1, 2});
  struct Case {
    std::string name, bytes, fragment;
  };
  const std::vector<Case> features{
      {"magic.npy", "PK\x03\x04 not numpy at all", "not a .npy file"},
      {"version.npy", std::string("\x93NUMPY\x09\x00\x10\x00", 10) + std::string(16, ' '),
       "format version 9.0"},
      {"fortran.npy", Npy("<f4", "(2, 1)", f4x2, 1, "True"), "Fortran-order"},
      {"big.npy", Npy(">f4", "(2, 1)", f4x2), "big-endian"},
      {"object.npy", Npy("|O", "(2, 1)", std::string(16, '\0')), "object array"},
      {"f8.npy", Npy("<f8", "(2, 1)", std::string(16, '\0')), "dtype '<f8' are not supported"},
      {"short.npy", Npy("<f4", "(2, 2)", f4x2), "(truncated)"},
      {"long.npy", Npy("<f4", "(2, 1)", f4x2 + "xx"), "(trailing data)"},
      {"rank4.npy", Npy("|u1", "(2, 1, 1, 1)", "ab"), "expected (N, D), (N, H, W) or (N,)"},
      {"empty.npy", Npy("<f4", "(0, 3)", ""), "no samples"},
      {"key.npy", std::string("\x93NUMPY\x01\x00\x0f\x00", 10) + "{'descr': 1}  \n", "malformed"},
      {"nan.npy", Npy("<f4", "(2, 1)", Bytes(std::vector<float>{1, NAN})), "must be finite"},
      {"count.npy", Npy("<f4", "(3, 1)", Bytes(std::vector<float>{1, 2, 3})),
       "y2.npy: 2 labels but the features in"},
  };
  for (const Case& c : features) {
    const std::string path = dir.Write(c.name, c.bytes);
    SCOPED_TRACE(c.name);
    ExpectUsageError([&] { LoadNpy(path, y2); }, {path, c.fragment});
  }
  const std::vector<Case> labels{
      {"neg.npy", Npy("<i4", "(2,)", Bytes(std::vector<int32_t>{0, -1})), "label -1 of sample 1"},
      {"range.npy", Npy("<i8", "(2,)", Bytes(std::vector<int64_t>{0, 5})), "out of range [0, 3)"},
      {"shape.npy", Npy("<i8", "(2, 1)", Bytes(std::vector<int64_t>{0, 1})), "expected (N,)"},
      {"bool.npy", Npy("|b1", "(2,)", std::string("\x01\x00", 2)), "labels of dtype '|b1'"},
      {"inf.npy", Npy("<f4", "(2,)", Bytes(std::vector<float>{1, INFINITY})), "finite floats"},
  };
  for (const Case& c : labels) {
    const std::string path = dir.Write(c.name, c.bytes);
    SCOPED_TRACE(c.name);
    ExpectUsageError([&] { LoadNpy(x2, path, 3); }, {path, c.fragment});
  }
  ExpectUsageError([&] { LoadNpy(dir.File("missing.npy"), y2); }, {"missing.npy", "cannot open"});
  ExpectUsageError([&] { LoadNpy(dir.path(), y2); }, {dir.path(), "directory"});
}

// Raw IDX image files are mapped like .npy; gzip files are decompressed into owned memory.
TEST(MappedInputTest, RawIdxImagesAreMappedAndGzipOnesAreNot) {
  TempDir dir;
  auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  const std::string px = "\x01\x02\x03\x04\x05\x06";
  const std::string images = be32(0x803) + be32(3) + be32(1) + be32(2) + px;
  const std::string labels = be32(0x801) + be32(3) + std::string("\x00\x01\x02", 3);
  const std::string raw = dir.Write("images", images);
  const std::string lab = dir.Write("labels", labels);
  const Dataset d = LoadIdxPair(raw, lab);
  EXPECT_TRUE(d.pixels.is_view());
  EXPECT_EQ(d.pixels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  const std::string gz = dir.File("images.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, images.data(), static_cast<unsigned>(images.size()));
  gzclose(f);
  const Dataset g = LoadIdxPair(gz, lab);
  EXPECT_FALSE(g.pixels.is_view());
  EXPECT_EQ(g.pixels, d.pixels);
  const std::string cut = dir.Write("cut", images.substr(0, images.size() - 1));
  ExpectUsageError([&] { LoadIdxPair(cut, lab); }, {cut, "truncated", "file holds 5"});
  const std::string extra = dir.Write("extra", images + "z");
  ExpectUsageError([&] { LoadIdxPair(extra, lab); }, {extra, "unexpected data after the 6"});
}

}  // namespace
}  // namespace dpmlp
