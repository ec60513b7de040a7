// NumPy .npy input (format versions 1.0, 2.0 and 3.0): a features array and a labels array.
// Features are uint8 (|u1) or float32 (<f4), shaped (N, D), (N, H, W) or (N,); uint8 arrays of
// shape (N, H, W) are images (augmentation applies). Labels are integers (class labels, any
// little-endian integer width) of shape (N,), or floats (<f4, <f8: regression targets) of shape
// (N,) or (N, T). C order and little-endian only. A regular file is memory-mapped read-only and
// its features used in place, so the ranks of one host share one copy; a FIFO or device is read
// as a stream (up to kStreamInputCap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset.h"

namespace dpmlp {

struct NpyArrayHeader {
  std::string descr;     // e.g. "<f4", "|u1"
  char kind = 0;         // 'u', 'i', 'f', 'b', 'c', 'O', 'S', 'U', 'V', ...
  size_t item_size = 0;  // bytes per element
  bool fortran_order = false;
  std::vector<uint64_t> shape;
  size_t data_offset = 0;  // where the array's bytes begin
  uint64_t count() const;  // product of shape (1 for a 0-d array)
};

// Parses and checks the header of the .npy bytes [data, data + size): magic, version, the
// header dictionary, and that the file holds exactly count() * item_size bytes after it.
// Throws UsageError naming `path` for anything else (not a .npy file, a truncated or padded
// file, big-endian or Fortran-order data, an object array, a malformed dictionary).
NpyArrayHeader ParseNpyHeader(const std::string& path, const uint8_t* data, size_t size);

// The header of a version 1.0 .npy file holding a C-order array of dtype descr and the given
// shape, padded so the data that follows starts on a 64-byte boundary (as NumPy writes it).
std::string NpyHeaderBytes(const std::string& descr, const std::vector<uint64_t>& shape);

// Loads features_path and labels_path as one data set (see the file comment). num_classes > 0
// bounds the class labels; 0 infers 1 + the largest (at most 65536 classes, as for CSV).
// Throws UsageError naming the file: wrong dtype or shape, a count mismatch between the two
// files, a NaN or Inf feature or target, a negative or out-of-range label.
Dataset LoadNpy(const std::string& features_path, const std::string& labels_path,
                int num_classes = 0);

}  // namespace dpmlp
