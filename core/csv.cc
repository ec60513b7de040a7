// CSV loader: no header, comma-separated numbers, one sample per line.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "core/dataset.h"
#include "core/error.h"
#include "core/input_file.h"

namespace dpmlp {
namespace {

// The class count is the largest label + 1; this caps it. Every batch holds batch x classes
// floats several times over, so a stray label of 16777215 in a 3-row file used to allocate 24 GB.
// 65536 classes is beyond any labelled set in use (ImageNet-21k has 21841) and costs 32 MB per
// such buffer at batch 128.
constexpr double kMaxCsvClasses = 65536;

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

// True when a number from_chars found out of range is too small rather than too large: it fits a
// double with magnitude below 1, or (beyond double's range) has a negative exponent.
bool Underflows(std::string_view digits) {
  double d = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
  if (ec == std::errc()) return std::fabs(d) < 1;
  const size_t e = digits.find_first_of("eE");
  return e != std::string_view::npos && e + 1 < digits.size() && digits[e + 1] == '-';
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
  if (ec == std::errc::result_out_of_range && Underflows(digits)) {
    // 1e-50 is a valid number that rounds to zero in float: keep it, as strtof would.
    return digits[0] == '-' ? -T{0} : T{0};
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
  if (v >= kMaxCsvClasses) {
    throw UsageError(where + ": label " + std::string(Trim(field)) + " is too large: at most " +
                     std::to_string(int(kMaxCsvClasses)) + " classes (labels 0.." +
                     std::to_string(int(kMaxCsvClasses) - 1) +
                     "; the class count is the largest label + 1)");
  }
  return static_cast<int32_t>(v);
}

// target_columns: 0 = a label column first, T > 0 = T target columns first, -1 = features only.
Dataset ParseCsv(const std::string& path, int target_columns, int num_classes) {
  std::string text = ReadInputFile(path);
  StripUtf8Bom(&text);  // a spreadsheet's export often starts with one

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
