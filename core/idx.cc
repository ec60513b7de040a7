// IDX (MNIST layout) loader: big-endian header, uint8 payload, raw or gzip.
// zlib's gzread reads uncompressed files transparently, so one code path serves both.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "core/dataset.h"
#include "core/error.h"
#include "core/input_file.h"
#include "core/mapped_file.h"

namespace dpmlp {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
constexpr int kIdxNumClasses = 10;

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// An open IDX file; every error names the file.
class IdxReader {
 public:
  explicit IdxReader(const std::string& path) : path_(path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      throw UsageError(path + ": is a directory, not an IDX file");
    stream_ = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw UsageError(path +
                       ": cannot open: " + (errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(file_, 1 << 16);
  }
  ~IdxReader() { gzclose(file_); }
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;

  // Reads up to n bytes; returns how many were available before end of data.
  size_t ReadSome(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 20));
      const int got = gzread(file_, dst + done, chunk);
      if (got < 0) {
        int code = 0;
        throw UsageError(path_ + ": corrupt or unreadable data: " + gzerror(file_, &code));
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

  uint32_t ReadBigEndian32(const char* what) {
    uint8_t b[4];
    if (ReadSome(b, 4) != 4) throw UsageError(path_ + ": truncated header (no " + what + ")");
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }

  void ExpectMagic(uint32_t expected, const char* kind) {
    const uint32_t magic = ReadBigEndian32("magic number");
    if (magic != expected) {
      throw UsageError(path_ + ": wrong magic " + Hex32(magic) + " (expected " + Hex32(expected) +
                       " for IDX " + kind + ")");
    }
  }

  // Reads exactly `count` payload bytes, then requires end of data. The buffer grows with the
  // data actually present, so a bogus header declaring gigabytes fails as truncated instead of
  // allocating them up front.
  // Reads exactly `count` bytes. Memory follows what the file really holds, not what its header
  // declares: the bytes arrive through a fixed 64 KB buffer and are appended, so a 100-byte file
  // that declares gigabytes costs 64 KB before it is found short.
  std::vector<uint8_t> ReadPayload(uint64_t count, const char* what) {
    // A FIFO or a device has no size to be short of: a header declaring terabytes would be read
    // until memory ran out. Such a file may declare at most kStreamInputCap bytes.
    if (stream_ && count > kStreamInputCap)
      throw UsageError(path_ + ": " + DescribeFileKind(path_) + " whose header declares " +
                       std::to_string(count) + " " + what + " bytes; a file that is not a " +
                       "regular file is read up to " + std::to_string(kStreamInputCap));
    std::vector<uint8_t> data;
    std::vector<uint8_t> chunk(size_t{1} << 16);
    while (data.size() < count) {
      const size_t want =
          static_cast<size_t>(std::min<uint64_t>(chunk.size(), count - data.size()));
      const size_t got = ReadSome(chunk.data(), want);
      data.insert(data.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
      if (got < want) {
        throw UsageError(path_ + ": truncated: header declares " + std::to_string(count) + " " +
                         what + " bytes, file holds " + std::to_string(data.size()));
      }
    }
    uint8_t extra;
    if (ReadSome(&extra, 1) != 0) {
      throw UsageError(path_ + ": unexpected data after the " + std::to_string(count) + " " + what +
                       " bytes the header declares");
    }
    return data;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool stream_ = false;  // not a regular file: a FIFO, a device
  gzFile file_ = nullptr;
};

// The header of an IDX image file: magic, count, rows, columns (4 bytes each).
constexpr uint64_t kIdxImagesHeader = 16;

// path mapped read-only when it is an uncompressed regular file (at least a header long);
// nullptr for a gzip file, a FIFO or a device, which are read as streams.
std::shared_ptr<const MappedFile> MapRawIdx(const std::string& path) {
  auto m = MappedFile::Open(path);
  if (!m || m->size() < kIdxImagesHeader) return nullptr;
  if (m->data()[0] == 0x1f && m->data()[1] == 0x8b) return nullptr;  // gzip magic
  return m;
}

// Resolves dir/name or dir/name.gz; empty when neither exists. Whatever exists is returned, a
// directory or a device too: IdxReader then says what it is instead of "no such file".
std::string FindIdxFile(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  if (Exists(base)) return base;
  if (Exists(base + ".gz")) return base + ".gz";
  return "";
}

}  // namespace

std::string MissingIdxFilesMessage(const std::string& dir, const std::string& file) {
  std::string msg = IsDirectory(dir) ? dir + ": no " + file + " or " + file + ".gz"
                    : Exists(dir)    ? dir + ": is " + DescribeFileKind(dir) + ", not a directory"
                                     : dir + ": no such directory";
  msg +=
      " (expected the four MNIST-layout IDX files train-images-idx3-ubyte, "
      "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, raw or .gz).";
  if (dir == kDefaultIdxDir)
    msg +=
        " Install the Debian package dataset-fashion-mnist (apt-get install "
        "dataset-fashion-mnist).";
  return msg;
}

Dataset LoadIdxPair(const std::string& images_path, const std::string& labels_path) {
  Dataset d;
  d.source = images_path;

  IdxReader images(images_path);
  images.ExpectMagic(kIdxImagesMagic, "images");
  const uint32_t n = images.ReadBigEndian32("image count");
  const uint32_t h = images.ReadBigEndian32("row count");
  const uint32_t w = images.ReadBigEndian32("column count");
  // An empty test set would train and report "0.00% (0 samples)" after every epoch.
  if (n == 0)
    throw UsageError(images_path + ": no images (the header declares 0): an empty training or " +
                     "test set is refused");
  if (h == 0 || w == 0) {
    throw UsageError(images_path + ": empty images (" + std::to_string(h) + "x" +
                     std::to_string(w) + ")");
  }
  if (h > static_cast<uint32_t>(std::numeric_limits<int>::max()) ||
      w > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
    throw UsageError(images_path + ": absurd image size " + std::to_string(h) + "x" +
                     std::to_string(w));
  }
  // n, h, w < 2^32 each: n*h*w may overflow 64 bits, so check before multiplying.
  const uint64_t pixels_per_image = uint64_t{h} * w;
  if (n != 0 && pixels_per_image > std::numeric_limits<uint64_t>::max() / n) {
    throw UsageError(images_path + ": absurd header: " + std::to_string(n) + " images of " +
                     std::to_string(h) + "x" + std::to_string(w));
  }
  const uint64_t pixel_bytes = uint64_t{n} * pixels_per_image;
  if (auto raw = MapRawIdx(images_path)) {
    // Uncompressed: the pixels are used in place, shared with every process mapping the file.
    const uint64_t held = raw->size() - kIdxImagesHeader;
    if (held < pixel_bytes)
      throw UsageError(images_path + ": truncated: header declares " + std::to_string(pixel_bytes) +
                       " pixel bytes, file holds " + std::to_string(held));
    if (held > pixel_bytes)
      throw UsageError(images_path + ": unexpected data after the " + std::to_string(pixel_bytes) +
                       " pixel bytes the header declares");
    d.pixels = FeatureBuffer<uint8_t>::View(raw, raw->data() + kIdxImagesHeader, pixel_bytes);
  } else {
    d.pixels = images.ReadPayload(pixel_bytes, "pixel");
  }
  d.size = n;
  d.image_height = static_cast<int>(h);
  d.image_width = static_cast<int>(w);
  d.input_dim = static_cast<size_t>(pixels_per_image);

  IdxReader labels(labels_path);
  labels.ExpectMagic(kIdxLabelsMagic, "labels");
  const uint32_t label_count = labels.ReadBigEndian32("label count");
  if (label_count != n) {
    throw UsageError(labels_path + ": " + std::to_string(label_count) + " labels but " +
                     images_path + " holds " + std::to_string(n) + " images");
  }
  const std::vector<uint8_t> raw = labels.ReadPayload(label_count, "label");
  d.num_classes = kIdxNumClasses;
  d.labels.resize(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] >= kIdxNumClasses) {
      throw UsageError(labels_path + ": label " + std::to_string(raw[i]) + " of sample " +
                       std::to_string(i) + " out of range [0, " + std::to_string(kIdxNumClasses) +
                       ")");
    }
    d.labels[i] = raw[i];
  }
  return d;
}

DataSplit LoadIdxDirectory(const std::string& dir) {
  const char* const kNames[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  std::string paths[4];
  for (int k = 0; k < 4; ++k) {
    paths[k] = FindIdxFile(dir, kNames[k]);
    if (paths[k].empty()) throw MissingIdxFiles(MissingIdxFilesMessage(dir, kNames[k]));
  }
  DataSplit split;
  split.train = LoadIdxPair(paths[0], paths[1]);
  split.test = LoadIdxPair(paths[2], paths[3]);
  if (split.train.image_height != split.test.image_height ||
      split.train.image_width != split.test.image_width) {
    throw UsageError(paths[2] + ": images are " + std::to_string(split.test.image_height) + "x" +
                     std::to_string(split.test.image_width) + " but " + paths[0] + " holds " +
                     std::to_string(split.train.image_height) + "x" +
                     std::to_string(split.train.image_width));
  }
  return split;
}

}  // namespace dpmlp
