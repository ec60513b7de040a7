// libFuzzer harness for the CSV reader (core/csv.cc). The first input byte picks the call, the rest
// is the file: byte % 5 = 0 LoadCsv(label first), 1 LoadCsv(label first, 3 classes), 2 LoadCsv(1
// target), 3 LoadCsv(2 targets), 4 LoadCsvInputs(2 columns). Only dpmlp::Error may escape.
#include <cmath>
#include <cstring>

#include "core/dataset.h"
#include "core/error.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dpmlp_fuzz::ScratchFile path_file("csv");
  const std::string& path = path_file.path();
  if (size == 0) return 0;
  const int mode = data[0] % 5;
  dpmlp_fuzz::WriteScratch(path, data + 1, size - 1);
  using dpmlp_fuzz::Require;
  try {
    dpmlp::Dataset d;
    switch (mode) {
      case 0:
        d = dpmlp::LoadCsv(path, 0);
        break;
      case 1:
        d = dpmlp::LoadCsv(path, 0, 3);
        break;
      case 2:
        d = dpmlp::LoadCsv(path, 1);
        break;
      case 3:
        d = dpmlp::LoadCsv(path, 2);
        break;
      default:
        d = dpmlp::LoadCsvInputs(path, 2);
        break;
    }
    Require(d.size > 0 && d.input_dim > 0, "a loaded CSV has rows and features");
    Require(d.values.size() == d.size * d.input_dim, "values == size * input_dim");
    for (float v : d.values) Require(std::isfinite(v), "features are finite");
    for (float v : d.targets) Require(std::isfinite(v), "targets are finite");
    if (mode <= 1) {
      Require(d.labels.size() == d.size, "one label per row");
      for (int32_t l : d.labels) Require(l >= 0 && l < d.num_classes, "labels in [0, num_classes)");
    } else if (mode <= 3) {
      Require(d.targets.size() == d.size * d.target_dim, "targets == size * target_dim");
    } else {
      Require(d.input_dim == 2, "LoadCsvInputs keeps the expected width");
    }
  } catch (const dpmlp::Error& e) {
    Require(e.code() == dpmlp::kExitUsage, "a bad CSV file is a usage error");
    Require(std::strstr(e.what(), "/dev/shm/dpmlp-fuzz-") != nullptr, "the message names the file");
  }
  return 0;
}
