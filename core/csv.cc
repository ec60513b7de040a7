// CSV loader: comma-separated numbers, one sample per line, after an optional header row.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

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

// True when the whole field reads as a number (the header check: a data row is no header).
bool IsNumber(std::string_view field) {
  std::string_view s = Trim(field);
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec != std::errc::invalid_argument && end == s.data() + s.size();
}

// The names of a header row: fields split at commas outside double quotes, a quoted name
// unquoted ("" inside quotes is one quote), blanks around a name trimmed.
std::vector<std::string> SplitHeader(std::string_view line) {
  std::vector<std::string> names(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
      names.back() += '"', ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      names.emplace_back();
    } else {
      names.back() += c;
    }
  }
  for (std::string& n : names) n = std::string(Trim(n));
  return names;
}

// Checks the header row at `where` and returns its column count. Refused: an empty name, and a
// row of numbers only (a data row taken for a header would silently lose a sample), except the
// column numbers 0,1,...,n-1 that pandas writes for unnamed columns.
size_t CheckHeader(std::string_view line, const std::string& where) {
  const std::vector<std::string> names = SplitHeader(line);
  bool numbers = true, column_numbers = true;
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k].empty())
      throw UsageError(where + ": column " + std::to_string(k + 1) + " of the header has no name");
    numbers = numbers && IsNumber(names[k]);
    column_numbers = column_numbers && names[k] == std::to_string(k);
  }
  if (numbers && !column_numbers)
    throw UsageError(where + ": read as a header, but this row is all numbers ('" +
                     Printable(line) + "'): a data row, not a header?");
  return names.size();
}

// The first data row (at line_no) sets the row width: it must hold the label or targets and a
// feature, and as many fields as the header names (header_fields > 0).
void CheckFirstRow(const std::string& path, size_t line_no, size_t fields, size_t lead,
                   int target_columns, size_t header_fields) {
  if (fields <= lead)
    throw UsageError(path + ":" + std::to_string(line_no) + ": " + std::to_string(fields) +
                     " fields, need more than " + std::to_string(lead) + " (" +
                     (target_columns > 0 ? std::to_string(lead) + " targets" : "the label") +
                     " and at least one feature)");
  if (header_fields > 0 && fields != header_fields)
    throw UsageError(path + ":1: the header names " + std::to_string(header_fields) +
                     " columns, but line " + std::to_string(line_no) + " has " +
                     std::to_string(fields) + " fields");
}

// target_columns: 0 = a label column first, T > 0 = T target columns first, -1 = features only.
// header: the first line names the columns (checked, then skipped). `path` names the text.
Dataset ParseCsv(std::string text, const std::string& path, int target_columns, int num_classes,
                 bool header) {
  StripUtf8Bom(&text);  // a spreadsheet's export often starts with one

  Dataset d;
  d.source = path;
  const size_t lead = target_columns > 0    ? static_cast<size_t>(target_columns)
                      : target_columns == 0 ? 1
                                            : 0;
  size_t fields_per_row = 0;  // set by the first row
  size_t header_fields = 0;   // with a header: its column count
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
    if (header && line_no == 1) {
      header_fields = CheckHeader(line, where);
      continue;
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
      CheckFirstRow(path, line_no, fields, lead, target_columns, header_fields);
      fields_per_row = fields;
    } else if (fields != fields_per_row) {
      throw UsageError(where + ": ragged row: " + std::to_string(fields) + " fields, expected " +
                       std::to_string(fields_per_row) + " as on the first row");
    }
    ++d.size;
  }
  if (d.size == 0 && header_fields > 0)
    throw UsageError(path + ":2: no data rows after the header");
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

Dataset LoadCsv(const std::string& path, int target_columns, int num_classes, bool header) {
  if (target_columns < 0 || num_classes < 0) {
    throw UsageError(path + ": target column count and class count must be >= 0");
  }
  return ParseCsv(ReadInputFile(path), path, target_columns, num_classes, header);
}

Dataset LoadCsvInputs(const std::string& path, size_t expected_columns, bool header) {
  const bool from_stdin = path == "-";
  const std::string source = from_stdin ? kStdinName : path;
  Dataset d =
      ParseCsv(from_stdin ? ReadStandardInput() : ReadInputFile(path), source, -1, 0, header);
  if (d.input_dim != expected_columns)
    throw UsageError(source + (header ? ":2: " : ":1: ") + std::to_string(d.input_dim) +
                     " fields per row, the model takes " + std::to_string(expected_columns) +
                     " inputs");
  return d;
}

}  // namespace dpmlp
