#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/error.h"
#include "tests/core/data_test_util.h"

namespace dpmlp {
namespace {

using testing_util::ExpectUsageError;
using testing_util::TempDir;

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

std::string BigEndian32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string ImagesIdx(uint32_t n, uint32_t h, uint32_t w, const std::vector<uint8_t>& pixels,
                      uint32_t magic = kImagesMagic) {
  return BigEndian32(magic) + BigEndian32(n) + BigEndian32(h) + BigEndian32(w) +
         std::string(pixels.begin(), pixels.end());
}

std::string LabelsIdx(uint32_t n, const std::vector<uint8_t>& labels,
                      uint32_t magic = kLabelsMagic) {
  return BigEndian32(magic) + BigEndian32(n) + std::string(labels.begin(), labels.end());
}

std::string WriteGzip(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.File(name);
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  EXPECT_EQ(gzclose(f), Z_OK);
  return path;
}

// Three 2x3 images with distinct pixel values and labels spanning [0, 10).
struct TinySet {
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels{0, 9, 4};
  TinySet() {
    for (int i = 0; i < 3 * 2 * 3; ++i) pixels.push_back(static_cast<uint8_t>(i * 14 + 1));
  }
  std::string images() const { return ImagesIdx(3, 2, 3, pixels); }
  std::string label_file() const { return LabelsIdx(3, labels); }
};

void ExpectTinySet(const Dataset& d, const TinySet& t) {
  EXPECT_EQ(d.size, 3u);
  EXPECT_EQ(d.image_height, 2);
  EXPECT_EQ(d.image_width, 3);
  EXPECT_EQ(d.input_dim, 6u);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_TRUE(d.values.empty());
  EXPECT_EQ(d.pixels, t.pixels);
  ASSERT_EQ(d.labels.size(), t.labels.size());
  for (size_t i = 0; i < t.labels.size(); ++i) EXPECT_EQ(d.labels[i], t.labels[i]);
  // Row-major: feature (i, j) is byte i*6 + j of the payload.
  EXPECT_EQ(d.feature(1, 2), static_cast<float>(t.pixels[8]));
}

TEST(IdxTest, ParsesRawPair) {
  TempDir dir;
  TinySet t;
  const Dataset d = LoadIdxPair(dir.Write("img", t.images()), dir.Write("lab", t.label_file()));
  ExpectTinySet(d, t);
  EXPECT_EQ(d.source, dir.File("img"));
}

TEST(IdxTest, ParsesGzipPair) {
  TempDir dir;
  TinySet t;
  const Dataset d =
      LoadIdxPair(WriteGzip(dir, "img.gz", t.images()), WriteGzip(dir, "lab.gz", t.label_file()));
  ExpectTinySet(d, t);
}

TEST(IdxTest, DirectoryTakesRawOrGzipPerFile) {
  TempDir dir;
  TinySet t;
  dir.Write("train-images-idx3-ubyte", t.images());
  WriteGzip(dir, "train-labels-idx1-ubyte.gz", t.label_file());
  WriteGzip(dir, "t10k-images-idx3-ubyte.gz", ImagesIdx(1, 2, 3, {1, 2, 3, 4, 5, 6}));
  dir.Write("t10k-labels-idx1-ubyte", LabelsIdx(1, {7}));
  const DataSplit s = LoadIdxDirectory(dir.path());
  ExpectTinySet(s.train, t);
  EXPECT_EQ(s.test.size, 1u);
  EXPECT_EQ(s.test.labels, std::vector<int32_t>{7});
  EXPECT_EQ(s.test.feature(0, 5), 6.0f);
}

// (The options to pass instead are the launcher's to add: train_single_test checks them.)
TEST(IdxTest, MissingFileInDirectoryNamesTheFile) {
  TempDir dir;
  TinySet t;
  dir.Write("train-images-idx3-ubyte", t.images());
  ExpectUsageError([&] { LoadIdxDirectory(dir.path()); },
                   {dir.path(), "no train-labels-idx1-ubyte or train-labels-idx1-ubyte.gz"});
  // Only the default directory points at the Debian package.
  try {
    LoadIdxDirectory(dir.path());
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("dataset-fashion-mnist"), std::string::npos);
  }
}

TEST(IdxTest, MissingDirectory) {
  TempDir dir;
  const std::string missing = dir.File("nope");
  ExpectUsageError([&] { LoadIdxDirectory(missing); }, {missing, "no such directory"});
}

TEST(IdxTest, DefaultDirectoryMessageNamesPackageButNoOption) {
  const std::string msg = MissingIdxFilesMessage(kDefaultIdxDir, "train-images-idx3-ubyte");
  for (const char* frag : {"dataset-fashion-mnist", "train-labels-idx1-ubyte"})
    EXPECT_NE(msg.find(frag), std::string::npos) << msg << "\nmissing: " << frag;
  // core names no command-line option: the launcher adds where else data can come from.
  EXPECT_EQ(msg.find("--"), std::string::npos) << msg;
}

TEST(IdxTest, MissingFilesAreTheirOwnError) {
  TempDir dir;
  try {
    LoadIdxDirectory(dir.path());
    FAIL() << "an empty directory loaded";
  } catch (const MissingIdxFiles& e) {
    EXPECT_EQ(e.code(), kExitUsage);
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte"), std::string::npos);
  }
}

TEST(IdxTest, WrongMagic) {
  TempDir dir;
  TinySet t;
  const std::string lab = dir.Write("lab", t.label_file());
  // A label file where the images should be.
  ExpectUsageError([&] { LoadIdxPair(lab, lab); },
                   {lab, "wrong magic 0x00000801", "expected 0x00000803 for IDX images"});
  const std::string img = dir.Write("img", t.images());
  ExpectUsageError([&] { LoadIdxPair(img, img); },
                   {img, "wrong magic 0x00000803", "expected 0x00000801 for IDX labels"});
  const std::string gz = WriteGzip(dir, "bad.gz", ImagesIdx(3, 2, 3, t.pixels, 0x12345678));
  ExpectUsageError([&] { LoadIdxPair(gz, lab); }, {"bad.gz", "wrong magic 0x12345678"});
}

TEST(IdxTest, TruncatedHeaderAndPayload) {
  TempDir dir;
  TinySet t;
  const std::string lab = dir.Write("lab", t.label_file());
  const std::string header = dir.Write("header", t.images().substr(0, 10));
  ExpectUsageError([&] { LoadIdxPair(header, lab); }, {header, "truncated header"});
  const std::string images = t.images();
  const std::string img = dir.Write("img", images.substr(0, images.size() - 1));
  ExpectUsageError([&] { LoadIdxPair(img, lab); }, {img, "truncated", "declares 18"});
  const std::string labels = dir.Write("short-labels", t.label_file().substr(0, 9));
  ExpectUsageError([&] { LoadIdxPair(dir.Write("img2", images), labels); },
                   {labels, "truncated", "declares 3"});
}

TEST(IdxTest, AbsurdHeaderFailsWithoutAllocatingIt) {
  TempDir dir;
  TinySet t;
  const std::string lab = dir.Write("lab", t.label_file());
  // ~1.8e19 declared bytes: must fail as truncated after reading the few bytes present.
  const std::string huge =
      WriteGzip(dir, "huge.gz", ImagesIdx(0xFFFFFFFF, 0xFFFF, 0xFFFF, t.pixels));
  ExpectUsageError([&] { LoadIdxPair(huge, lab); }, {"huge.gz", "truncated"});
  // n*h*w overflowing 64 bits is rejected before any arithmetic goes wrong.
  const std::string overflow =
      dir.Write("overflow", ImagesIdx(0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, t.pixels));
  ExpectUsageError([&] { LoadIdxPair(overflow, lab); }, {overflow, "absurd"});
  const std::string empty = dir.Write("zero", ImagesIdx(3, 0, 3, {}));
  ExpectUsageError([&] { LoadIdxPair(empty, lab); }, {empty, "empty images"});
}

TEST(IdxTest, TrailingDataIsRejected) {
  TempDir dir;
  TinySet t;
  const std::string img = dir.Write("img", t.images() + "x");
  ExpectUsageError([&] { LoadIdxPair(img, dir.Write("lab", t.label_file())); },
                   {img, "unexpected data"});
}

TEST(IdxTest, CountMismatch) {
  TempDir dir;
  TinySet t;
  const std::string img = dir.Write("img", t.images());
  const std::string lab = dir.Write("lab", LabelsIdx(2, {1, 2}));
  ExpectUsageError([&] { LoadIdxPair(img, lab); }, {lab, "2 labels", "3 images"});
}

TEST(IdxTest, LabelOutOfRange) {
  TempDir dir;
  TinySet t;
  const std::string lab = dir.Write("lab", LabelsIdx(3, {0, 10, 1}));
  ExpectUsageError([&] { LoadIdxPair(dir.Write("img", t.images()), lab); },
                   {lab, "label 10", "sample 1", "[0, 10)"});
}

TEST(IdxTest, CorruptGzip) {
  TempDir dir;
  TinySet t;
  std::string bytes;
  {
    const std::string good = WriteGzip(dir, "good.gz", t.images());
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Keep the gzip header, scramble the deflate stream.
  for (size_t i = 10; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xFF);
  const std::string bad = dir.Write("corrupt.gz", bytes);
  ExpectUsageError([&] { LoadIdxPair(bad, dir.Write("lab", t.label_file())); }, {bad});
}

TEST(IdxTest, RealFashionMnistIfInstalled) {
  const std::string dir = kDefaultIdxDir;
  if (!std::filesystem::is_directory(dir)) {
    GTEST_SKIP() << dir << " not installed (Debian package dataset-fashion-mnist)";
  }
  const DataSplit s = LoadIdxDirectory(dir);
  EXPECT_EQ(s.train.size, 60000u);
  EXPECT_EQ(s.test.size, 10000u);
  for (const Dataset* d : {&s.train, &s.test}) {
    EXPECT_EQ(d->input_dim, 784u);
    EXPECT_EQ(d->image_height, 28);
    EXPECT_EQ(d->image_width, 28);
    EXPECT_EQ(d->pixels.size(), d->size * 784);
    EXPECT_EQ(d->labels.size(), d->size);
    std::vector<size_t> per_class(10, 0);
    for (int32_t label : d->labels) {
      ASSERT_GE(label, 0);
      ASSERT_LT(label, 10);
      ++per_class[label];
    }
    // Fashion-MNIST is balanced: every class present in both splits.
    for (size_t c : per_class) EXPECT_EQ(c, d->size / 10);
  }
}

}  // namespace
}  // namespace dpmlp
