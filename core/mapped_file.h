// A whole regular file mapped read-only (mmap, MAP_SHARED): every process that maps the same file
// reads the same page-cache pages, so the ranks of one host hold one copy of an input file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dpmlp {

class MappedFile {
 public:
  // Maps path; nullptr when path is not a regular file (a FIFO or a device cannot be mapped:
  // read it as a stream instead). Throws UsageError naming the path when it cannot be opened
  // or mapped. An empty file maps to size() == 0.
  static std::shared_ptr<const MappedFile> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* data_;
  size_t size_;
};

}  // namespace dpmlp
