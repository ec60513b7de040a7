#include "core/number_text.h"

#include <charconv>
#include <cstdio>

namespace dpmlp {

namespace {

template <class T>
std::string Shortest(T v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

}  // namespace

std::string ShortestText(double v) { return Shortest(v); }
std::string ShortestText(float v) { return Shortest(v); }

std::string MetricText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace dpmlp
