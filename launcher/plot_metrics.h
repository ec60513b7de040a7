// Reading a --metrics file (one flat JSON object per line, as `dpmlp train --metrics` appends)
// for the training-curves figure.
#pragma once

#include <string>
#include <vector>

namespace dpmlp {

// A --metrics file: the keys in order of first appearance and one row per record (NaN where a
// record lacks a key).
struct MetricsTable {
  std::string source;
  std::vector<std::string> keys;
  std::vector<std::vector<double>> rows;
  int column(const std::string& key) const;  // -1 when absent
};
// Throws UsageError naming the file and line on a line that is not a flat JSON object, and the
// file when it holds no record.
MetricsTable ReadMetricsFile(const std::string& path);

}  // namespace dpmlp
