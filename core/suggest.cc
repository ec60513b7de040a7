#include "core/suggest.h"

#include <algorithm>
#include <cctype>

namespace dpmlp {

int EditDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

namespace {

std::string Normalized(const std::string& s) {
  std::string t = s;
  for (char& c : t)
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

std::string Join(const std::vector<std::string>& names, const std::string& dashes,
                 const std::string& last_separator) {
  std::string t;
  for (size_t i = 0; i < names.size(); ++i)
    t += (i == 0 ? "" : i + 1 == names.size() ? last_separator : ", ") + dashes + names[i];
  return t;
}

}  // namespace

std::string SuggestNames(const std::string& typed, const std::vector<std::string>& names,
                         const std::string& dashes) {
  const std::string t = Normalized(typed);
  if (t.empty()) return "";
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  // Typed in capitals or with '_' for '-': that name, even when it begins others.
  if (std::binary_search(sorted.begin(), sorted.end(), t) && t != typed)
    return "did you mean " + dashes + t + "?";
  std::vector<std::string> starting;
  for (const std::string& n : sorted)
    if (n.size() > t.size() && n.compare(0, t.size(), t) == 0) starting.push_back(n);
  if (starting.size() > 1)
    return "options starting with " + dashes + typed + ": " + Join(starting, dashes, ", ");
  if (starting.size() == 1) return "did you mean " + dashes + starting[0] + "?";
  // Farther than this is a different word, not a typing error.
  const int allowed = t.size() <= 3 ? 1 : t.size() <= 6 ? 2 : 3;
  int best = allowed + 1;
  std::vector<std::string> nearest;
  for (const std::string& n : sorted) {
    const int d = EditDistance(t, n);
    if (d < best) best = d, nearest.clear();
    if (d == best) nearest.push_back(n);
  }
  if (nearest.empty()) return "";
  return "did you mean " + Join(nearest, dashes, " or ") + "?";
}

}  // namespace dpmlp
