// libFuzzer harness for the IDX reader (core/idx.cc, LoadIdxPair). Input layout: a little-endian
// uint32 N, then N bytes of the images file, then the labels file; inputs shorter than 4 bytes or
// with N beyond the end are all images and an empty labels file. Raw and gzip'd files both reach
// the reader, as zlib detects gzip by content. Only dpmlp::Error may escape the reader; anything
// else (std::bad_alloc, std::length_error, a sanitizer report) is a crash.
#include <cstring>

#include "core/dataset.h"
#include "core/error.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dpmlp_fuzz::ScratchFile images_file("images");
  const std::string& images = images_file.path();
  static const dpmlp_fuzz::ScratchFile labels_file("labels");
  const std::string& labels = labels_file.path();
  size_t n = size;
  if (size >= 4) {
    uint32_t declared;
    std::memcpy(&declared, data, 4);
    data += 4, size -= 4;
    n = declared <= size ? declared : size;
  }
  dpmlp_fuzz::WriteScratch(images, data, n);
  dpmlp_fuzz::WriteScratch(labels, data + n, size - n);
  try {
    const dpmlp::Dataset d = dpmlp::LoadIdxPair(images, labels);
    using dpmlp_fuzz::Require;
    Require(d.pixels.size() == d.size * d.input_dim, "pixels == size * input_dim");
    Require(d.input_dim == size_t(d.image_height) * size_t(d.image_width), "input_dim == h * w");
    Require(d.labels.size() == d.size, "one label per image");
    for (int32_t l : d.labels) Require(l >= 0 && l < d.num_classes, "labels in [0, num_classes)");
  } catch (const dpmlp::Error& e) {
    dpmlp_fuzz::Require(e.code() == dpmlp::kExitUsage, "a bad IDX file is a usage error");
    dpmlp_fuzz::Require(std::strstr(e.what(), "/dev/shm/dpmlp-fuzz-") != nullptr,
                        "the message names the file");
  }
  return 0;
}
