#include "core/npy.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "core/error.h"
#include "core/input_file.h"
#include "core/mapped_file.h"

namespace dpmlp {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr int64_t kMaxNpyClasses = 65536;

// The bytes of one input file: mapped when it is a regular file, read whole otherwise.
struct FileBytes {
  std::shared_ptr<const void> keep;
  const uint8_t* data = nullptr;
  size_t size = 0;
};

FileBytes ReadBytes(const std::string& path) {
  FileBytes b;
  if (auto mapped = MappedFile::Open(path)) {
    b.data = mapped->data();
    b.size = mapped->size();
    b.keep = std::move(mapped);
  } else {
    auto text = std::make_shared<const std::string>(ReadInputFile(path));
    b.data = reinterpret_cast<const uint8_t*>(text->data());
    b.size = text->size();
    b.keep = std::move(text);
  }
  return b;
}

// A cursor over the header's Python dictionary literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }
class DictParser {
 public:
  DictParser(const std::string& path, const std::string& text) : path_(path), s_(text) {}

  NpyArrayHeader Parse() {
    NpyArrayHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    Expect('{');
    while (!Peek('}')) {
      const std::string key = Quoted();
      Expect(':');
      if (key == "descr") {
        h.descr = Quoted();
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = Bool();
        seen_order = true;
      } else if (key == "shape") {
        h.shape = Shape();
        seen_shape = true;
      } else {
        Fail("unknown key '" + key + "'");
      }
      if (!Peek('}')) Expect(',');
    }
    Expect('}');
    if (!seen_descr || !seen_order || !seen_shape)
      Fail("the dictionary lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw UsageError(path_ + ": malformed .npy header: " + what + " (header: " + s_.substr(0, 120) +
                     ")");
  }
  void Skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
  }
  bool Peek(char c) {
    Skip();
    return i_ < s_.size() && s_[i_] == c;
  }
  void Expect(char c) {
    if (!Peek(c)) Fail(std::string("expected '") + c + "' at offset " + std::to_string(i_));
    ++i_;
  }
  std::string Quoted() {
    Skip();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) Fail("expected a quoted string");
    const char q = s_[i_++];
    const size_t end = s_.find(q, i_);
    if (end == std::string::npos) Fail("unterminated string");
    std::string v = s_.substr(i_, end - i_);
    i_ = end + 1;
    return v;
  }
  bool Bool() {
    Skip();
    for (const char* word : {"True", "False"}) {
      if (s_.compare(i_, std::strlen(word), word) == 0) {
        i_ += std::strlen(word);
        return word[0] == 'T';
      }
    }
    Fail("fortran_order is neither True nor False");
  }
  std::vector<uint64_t> Shape() {
    std::vector<uint64_t> shape;
    Expect('(');
    while (!Peek(')')) {
      Skip();
      uint64_t v = 0;
      size_t digits = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        if (v > (std::numeric_limits<uint64_t>::max() - 9) / 10) Fail("a dimension overflows");
        v = v * 10 + static_cast<uint64_t>(s_[i_++] - '0');
        ++digits;
      }
      if (digits == 0) Fail("a dimension is not a non-negative integer");
      shape.push_back(v);
      if (!Peek(')')) Expect(',');
    }
    Expect(')');
    return shape;
  }

  const std::string& path_;
  std::string s_;
  size_t i_ = 0;
};

std::string ShapeText(const std::vector<uint64_t>& shape) {
  std::string t = "(";
  for (size_t i = 0; i < shape.size(); ++i) t += (i ? ", " : "") + std::to_string(shape[i]);
  return t + (shape.size() == 1 ? ",)" : ")");
}

// The array's elements as T: a view into `b` when its dtype is T's and the data is aligned,
// else nullptr (the caller converts).
template <class T>
const T* AlignedView(const FileBytes& b, const NpyArrayHeader& h) {
  const uint8_t* p = b.data + h.data_offset;
  return reinterpret_cast<uintptr_t>(p) % alignof(T) == 0 ? reinterpret_cast<const T*>(p) : nullptr;
}

// Element i of an integer array, widened to int64 (rejecting values above int64's range).
int64_t IntegerAt(const std::string& path, const NpyArrayHeader& h, const uint8_t* p, size_t i) {
  uint64_t u = 0;  // little-endian bytes
  for (size_t k = 0; k < h.item_size; ++k) u |= uint64_t{p[i * h.item_size + k]} << (8 * k);
  if (h.kind == 'i' && h.item_size < 8 && (u >> (8 * h.item_size - 1)) != 0)
    return -1;  // negative: rejected by the caller
  if (h.kind == 'i' && h.item_size == 8) return static_cast<int64_t>(u);
  if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw UsageError(path + ": label " + std::to_string(u) + " of sample " + std::to_string(i) +
                     " is out of range");
  return static_cast<int64_t>(u);
}

double FloatAt(const NpyArrayHeader& h, const uint8_t* p, size_t i) {
  if (h.item_size == 4) {
    float f;
    std::memcpy(&f, p + i * 4, 4);
    return f;
  }
  double d;
  std::memcpy(&d, p + i * 8, 8);
  return d;
}

void LoadFeatures(const std::string& path, const FileBytes& b, const NpyArrayHeader& h,
                  Dataset* d) {
  if (h.descr != "|u1" && h.descr != "<u1" && h.descr != "<f4")
    throw UsageError(path + ": features of dtype '" + h.descr + "' are not supported: use uint8 " +
                     "('|u1') or float32 ('<f4'), e.g. x.astype(np.float32)");
  if (h.shape.empty() || h.shape.size() > 3)
    throw UsageError(path + ": features of shape " + ShapeText(h.shape) +
                     ": expected (N, D), (N, H, W) or (N,)");
  if (h.shape[0] == 0) throw UsageError(path + ": no samples (shape " + ShapeText(h.shape) + ")");
  d->size = h.shape[0];
  d->input_dim = static_cast<size_t>(h.count() / h.shape[0]);
  if (d->input_dim == 0) throw UsageError(path + ": zero features per sample");
  const size_t n = static_cast<size_t>(h.count());
  if (h.kind == 'u') {
    d->pixels = FeatureBuffer<uint8_t>::View(b.keep, b.data + h.data_offset, n);
    if (h.shape.size() == 3) {
      if (h.shape[1] > uint64_t(std::numeric_limits<int>::max()) ||
          h.shape[2] > uint64_t(std::numeric_limits<int>::max()))
        throw UsageError(path + ": absurd image size " + ShapeText(h.shape));
      d->image_height = static_cast<int>(h.shape[1]);
      d->image_width = static_cast<int>(h.shape[2]);
    }
    return;
  }
  if (const float* view = AlignedView<float>(b, h)) {
    d->values = FeatureBuffer<float>::View(b.keep, view, n);
  } else {
    std::vector<float> v(n);
    std::memcpy(v.data(), b.data + h.data_offset, n * sizeof(float));
    d->values = std::move(v);
  }
  const float* v = static_cast<const Dataset*>(d)->values.data();
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i]))
      throw UsageError(path + ": feature " + std::to_string(i % d->input_dim) + " of sample " +
                       std::to_string(i / d->input_dim) + " is " + std::to_string(v[i]) +
                       " (features must be finite)");
  }
}

void LoadLabels(const std::string& path, const FileBytes& b, const NpyArrayHeader& h, Dataset* d,
                int num_classes) {
  const bool integer = h.kind == 'i' || h.kind == 'u';
  const bool real = h.kind == 'f' && (h.item_size == 4 || h.item_size == 8);
  if (!integer && !real)
    throw UsageError(path + ": labels of dtype '" + h.descr + "' are not supported: use integer " +
                     "class labels (e.g. int64) or float32/float64 regression targets");
  if (h.shape.empty() || h.shape.size() > 2 || (integer && h.shape.size() != 1))
    throw UsageError(path + ": labels of shape " + ShapeText(h.shape) + ": expected (N,)" +
                     (integer ? "" : " or (N, T)"));
  if (h.shape[0] != d->size)
    throw UsageError(path + ": " + std::to_string(h.shape[0]) + " labels but the features in " +
                     d->source + " hold " + std::to_string(d->size) + " samples");
  const uint8_t* p = b.data + h.data_offset;
  if (real) {
    d->target_dim = h.shape.size() == 2 ? static_cast<size_t>(h.shape[1]) : 1;
    if (d->target_dim == 0) throw UsageError(path + ": zero targets per sample");
    const size_t n = static_cast<size_t>(h.count());
    std::vector<float> t(n);
    for (size_t i = 0; i < n; ++i) {
      const double v = FloatAt(h, p, i);
      if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max())
        throw UsageError(path + ": target " + std::to_string(i % d->target_dim) + " of sample " +
                         std::to_string(i / d->target_dim) + " is " + std::to_string(v) +
                         " (targets must be finite floats)");
      t[i] = static_cast<float>(v);
    }
    d->targets = std::move(t);
    return;
  }
  const int64_t limit = num_classes > 0 ? num_classes : kMaxNpyClasses;
  d->labels.resize(d->size);
  int64_t largest = 0;
  for (size_t i = 0; i < d->size; ++i) {
    const int64_t v = IntegerAt(path, h, p, i);
    if (v < 0 || v >= limit)
      throw UsageError(path + ": label " + std::to_string(v) + " of sample " + std::to_string(i) +
                       " out of range [0, " + std::to_string(limit) + ")" +
                       (num_classes > 0 ? "" : " (at most 65536 classes)"));
    d->labels[i] = static_cast<int32_t>(v);
    largest = std::max(largest, v);
  }
  d->num_classes = num_classes > 0 ? num_classes : static_cast<int>(largest + 1);
}

}  // namespace

uint64_t NpyArrayHeader::count() const {
  uint64_t n = 1;
  for (uint64_t s : shape) n *= s;  // overflow is ruled out by ParseNpyHeader
  return n;
}

NpyArrayHeader ParseNpyHeader(const std::string& path, const uint8_t* data, size_t size) {
  if (size < kMagicSize + 4 || std::memcmp(data, kMagic, kMagicSize) != 0)
    throw UsageError(path + ": not a .npy file (no \\x93NUMPY magic)");
  const int major = data[6];
  if (major < 1 || major > 3)
    throw UsageError(path + ": .npy format version " + std::to_string(major) + "." +
                     std::to_string(data[7]) + " is not supported (1.0, 2.0, 3.0 are)");
  size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = size_t{data[8]} | size_t{data[9]} << 8;
    prefix = 10;
  } else {
    if (size < 12) throw UsageError(path + ": truncated .npy header");
    header_len =
        size_t{data[8]} | size_t{data[9]} << 8 | size_t{data[10]} << 16 | size_t{data[11]} << 24;
    prefix = 12;
  }
  if (header_len > size - prefix)
    throw UsageError(path + ": truncated .npy header (declares " + std::to_string(header_len) +
                     " bytes, the file holds " + std::to_string(size - prefix) + ")");
  const std::string text(reinterpret_cast<const char*>(data + prefix), header_len);
  NpyArrayHeader h = DictParser(path, text).Parse();
  h.data_offset = prefix + header_len;
  const std::string& t = h.descr;
  if (t == "|O" || t == "O")
    throw UsageError(path + ": an object array (dtype 'O') cannot be read");
  if (t.size() < 3 || (t[0] != '<' && t[0] != '>' && t[0] != '|' && t[0] != '='))
    throw UsageError(path + ": dtype '" + t + "' is not supported");
  h.kind = t[1];
  const std::string width = t.substr(2);
  h.item_size = width == "1" ? 1 : width == "2" ? 2 : width == "4" ? 4 : width == "8" ? 8 : 0;
  if (h.item_size == 0 || width.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(path + ": dtype '" + t + "' is not supported");
  if (t[0] == '>' && h.item_size > 1)
    throw UsageError(path + ": big-endian data ('" + t + "'): convert it with " +
                     "x.astype(x.dtype.newbyteorder('<'))");
  if (h.fortran_order)
    throw UsageError(path + ": Fortran-order data: save np.ascontiguousarray(x) instead");
  uint64_t n = 1;
  for (uint64_t s : h.shape) {
    if (s != 0 && n > std::numeric_limits<uint64_t>::max() / h.item_size / s)
      throw UsageError(path + ": absurd shape " + ShapeText(h.shape));
    n *= s;
  }
  const uint64_t want = n * h.item_size;
  if (want != size - h.data_offset)
    throw UsageError(path + ": shape " + ShapeText(h.shape) + " of '" + t + "' needs " +
                     std::to_string(want) + " data bytes, the file holds " +
                     std::to_string(size - h.data_offset) +
                     (want > size - h.data_offset ? " (truncated)" : " (trailing data)"));
  return h;
}

std::string NpyHeaderBytes(const std::string& descr, const std::vector<uint64_t>& shape) {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + ShapeText(shape) + ", }";
  const size_t unpadded = 10 + dict.size() + 1;  // magic, version, length; the closing newline
  dict += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string h(kMagic, kMagicSize);
  h += '\x01';
  h += '\x00';
  h += static_cast<char>(dict.size() & 0xff);
  h += static_cast<char>(dict.size() >> 8);
  return h + dict;
}

Dataset LoadNpy(const std::string& features_path, const std::string& labels_path, int num_classes) {
  Dataset d;
  d.source = features_path;
  const FileBytes x = ReadBytes(features_path);
  LoadFeatures(features_path, x, ParseNpyHeader(features_path, x.data, x.size), &d);
  const FileBytes y = ReadBytes(labels_path);
  LoadLabels(labels_path, y, ParseNpyHeader(labels_path, y.data, y.size), &d, num_classes);
  return d;
}

}  // namespace dpmlp
