// Numbers as text for people and for config files.
#pragma once

#include <string>

namespace dpmlp {

// The shortest text that reads back as exactly v ("0.05", not "0.050000000000000003"; "1e-07",
// "300"). The float overload is shortest for the float itself (0.1f gives "0.1").
std::string ShortestText(double v);
std::string ShortestText(float v);

// A loss, MSE or similar figure for a log line: 4 significant digits, in exponent form below
// 1e-4 ("0.3069", "0.001482", "8.036e-07"), so that a small value keeps its digits.
std::string MetricText(double v);

}  // namespace dpmlp
