#include "launcher/plot_metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace dpmlp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Skips blanks in a metrics line.
void SkipSpace(const std::string& s, size_t* at) {
  while (*at < s.size() && std::isspace(static_cast<unsigned char>(s[*at]))) ++*at;
}

}  // namespace

int MetricsTable::column(const std::string& key) const {
  const auto it = std::find(keys.begin(), keys.end(), key);
  return it == keys.end() ? -1 : static_cast<int>(it - keys.begin());
}

MetricsTable ReadMetricsFile(const std::string& path) {
  MetricsTable t;
  t.source = path;
  std::istringstream in(ReadFileBytes(path));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string where = path + ":" + std::to_string(n);
    size_t at = 0;
    SkipSpace(line, &at);
    if (at == line.size()) continue;
    auto bad = [&](const std::string& why) {
      return UsageError(where + ": " + why +
                        " (expected one flat JSON object per line, as --metrics writes)");
    };
    if (line[at++] != '{') throw bad("no '{'");
    std::vector<double> row(t.keys.size(), kNaN);
    SkipSpace(line, &at);
    bool closed = at < line.size() && line[at] == '}';
    if (closed) ++at;
    while (!closed) {
      SkipSpace(line, &at);
      if (at >= line.size() || line[at] != '"') throw bad("a key must be a string");
      const size_t key_end = line.find('"', at + 1);
      if (key_end == std::string::npos) throw bad("unterminated key");
      const std::string key = line.substr(at + 1, key_end - at - 1);
      at = key_end + 1;
      SkipSpace(line, &at);
      if (at >= line.size() || line[at++] != ':') throw bad("no ':' after \"" + key + "\"");
      SkipSpace(line, &at);
      std::string value;
      if (at < line.size() && line[at] == '"') {  // protobuf's JSON quotes 64-bit integers
        const size_t end = line.find('"', at + 1);
        if (end == std::string::npos) throw bad("unterminated string");
        value = line.substr(at + 1, end - at - 1);
        at = end + 1;
      } else {
        const size_t end = line.find_first_of(",}", at);
        if (end == std::string::npos) throw bad("unterminated value");
        value = line.substr(at, end - at);
        at = end;
      }
      if (value.find_first_of("{[") != std::string::npos)
        throw bad("nested value of \"" + key + "\"");
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      int col = t.column(key);
      if (col < 0) {
        t.keys.push_back(key);
        for (auto& r : t.rows) r.push_back(kNaN);
        row.push_back(kNaN);
        col = static_cast<int>(t.keys.size()) - 1;
      }
      row[col] = end != value.c_str() ? v : kNaN;  // strings that are not numbers: no value
      SkipSpace(line, &at);
      if (at >= line.size()) throw bad("no closing '}'");
      if (line[at] == '}')
        closed = true;
      else if (line[at] != ',')
        throw bad("expected ',' or '}' after \"" + key + "\"");
      ++at;
    }
    SkipSpace(line, &at);
    if (at != line.size()) throw bad("text after the closing '}'");
    t.rows.push_back(row);
  }
  if (t.rows.empty())
    throw UsageError(path + ": no metrics records (is it a file written by --metrics?)");
  return t;
}

}  // namespace dpmlp
