// CSV loader: no header, comma-separated numbers, one sample per line.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "core/dataset.h"
#include "core/error.h"

namespace dpmlp {
namespace {

// Labels beyond this are almost certainly a wrong --target-columns, not a real class count.
constexpr double kMaxCsvLabel = 1 << 24;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A field as a message shows it: bytes outside printable ASCII as \xNN (a NUL would end the
// message early, control bytes would garble the terminal), at most 40 characters.
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

// Parses the whole field as a number. std::from_chars is locale-independent, unlike strtod.
template <typename T>
T ParseNumber(std::string_view field, const std::string& where, size_t column) {
  const std::string_view s = Trim(field);
  std::string_view digits = s;
  // from_chars rejects a leading '+'; accept it as strtod would, but not "+-1".
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-') digits.remove_prefix(1);
  T value{};
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
    throw UsageError(where + ": field " + std::to_string(column + 1) + " '" + Printable(s) +
                     "' is not a number");
  }
  if (ec == std::errc::result_out_of_range || !std::isfinite(value)) {
    throw UsageError(where + ": field " + std::to_string(column + 1) + " '" + Printable(s) +
                     "' is NaN or Inf (or out of float range)");
  }
  return value;
}

int32_t ParseLabel(std::string_view field, const std::string& where, int num_classes) {
  const double v = ParseNumber<double>(field, where, 0);
  if (v < 0) throw UsageError(where + ": negative label " + std::string(Trim(field)));
  if (v != std::floor(v)) {
    throw UsageError(where + ": non-integer label " + std::string(Trim(field)));
  }
  if (num_classes > 0 && v >= num_classes) {
    throw UsageError(where + ": label " + std::string(Trim(field)) + " out of range [0, " +
                     std::to_string(num_classes) + ")");
  }
  if (v >= kMaxCsvLabel) {
    throw UsageError(where + ": label " + std::string(Trim(field)) + " is absurdly large");
  }
  return static_cast<int32_t>(v);
}

// target_columns: 0 = a label column first, T > 0 = T target columns first, -1 = features only.
Dataset ParseCsv(const std::string& path, int target_columns, int num_classes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw UsageError(path + ": read error");
  const std::string text = buf.str();

  Dataset d;
  d.source = path;
  const size_t lead = target_columns > 0    ? static_cast<size_t>(target_columns)
                      : target_columns == 0 ? 1
                                            : 0;
  size_t fields_per_row = 0;  // set by the first row
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = path + ":" + std::to_string(line_no);
    if (Trim(line).empty()) {
      // Blank lines are tolerated only at the end of the file (a trailing newline or two).
      if (text.find_first_not_of(" \t\r\n", pos) == std::string::npos) break;
      throw UsageError(where + ": empty line");
    }

    size_t fields = 0;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      const std::string_view field = line.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (fields < lead && target_columns == 0) {
        d.labels.push_back(ParseLabel(field, where, num_classes));
      } else if (fields < lead) {
        d.targets.push_back(ParseNumber<float>(field, where, fields));
      } else {
        d.values.push_back(ParseNumber<float>(field, where, fields));
      }
      ++fields;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (fields_per_row == 0) {
      if (fields <= lead) {
        throw UsageError(where + ": " + std::to_string(fields) + " fields, need more than " +
                         std::to_string(lead) + " (" +
                         (target_columns > 0 ? std::to_string(lead) + " targets" : "the label") +
                         " and at least one feature)");
      }
      fields_per_row = fields;
    } else if (fields != fields_per_row) {
      throw UsageError(where + ": ragged row: " + std::to_string(fields) + " fields, expected " +
                       std::to_string(fields_per_row) + " as on the first row");
    }
    ++d.size;
  }
  if (d.size == 0) throw UsageError(path + ":1: empty file (no data rows)");

  d.input_dim = fields_per_row - lead;
  if (target_columns < 0) return d;
  if (target_columns > 0) {
    d.target_dim = lead;
  } else {
    int32_t largest = 0;
    for (int32_t label : d.labels) largest = std::max(largest, label);
    d.num_classes = num_classes > 0 ? num_classes : largest + 1;
  }
  return d;
}

}  // namespace

Dataset LoadCsv(const std::string& path, int target_columns, int num_classes) {
  if (target_columns < 0 || num_classes < 0) {
    throw UsageError(path + ": target column count and class count must be >= 0");
  }
  return ParseCsv(path, target_columns, num_classes);
}

Dataset LoadCsvInputs(const std::string& path, size_t expected_columns) {
  Dataset d = ParseCsv(path, -1, 0);
  if (d.input_dim != expected_columns)
    throw UsageError(path + ":1: " + std::to_string(d.input_dim) +
                     " fields per row, the model takes " + std::to_string(expected_columns) +
                     " inputs");
  return d;
}

}  // namespace dpmlp
