#include "core/number_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace dpmlp {
namespace {

TEST(NumberTextTest, ShortestTextIsWhatWasWritten) {
  EXPECT_EQ(ShortestText(0.05), "0.05");
  EXPECT_EQ(ShortestText(0.9), "0.9");
  EXPECT_EQ(ShortestText(300.0), "300");
  EXPECT_EQ(ShortestText(0.0), "0");
  EXPECT_EQ(ShortestText(1e-7), "1e-07");
  EXPECT_EQ(ShortestText(-2.5), "-2.5");
  EXPECT_EQ(ShortestText(0.1f), "0.1");  // the float's own shortest form, not 0.10000000149...
  EXPECT_EQ(ShortestText(10.0f), "10");
}

TEST(NumberTextTest, ShortestTextReadsBackBitForBit) {
  std::mt19937_64 gen(7);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t bits = gen();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const double back = std::strtod(ShortestText(d).c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&back, &d, sizeof d), 0) << ShortestText(d);
    const float f = static_cast<float>(std::ldexp(static_cast<double>(bits >> 40), -30));
    const float fback = std::strtof(ShortestText(f).c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&fback, &f, sizeof f), 0) << ShortestText(f);
  }
}

TEST(NumberTextTest, MetricTextKeepsTheDigitsOfSmallValues) {
  EXPECT_EQ(MetricText(0.3069), "0.3069");
  EXPECT_EQ(MetricText(2.302585), "2.303");
  EXPECT_EQ(MetricText(0.0014823), "0.001482");
  EXPECT_EQ(MetricText(8.036e-7), "8.036e-07");  // %.6f printed 0.000001
  EXPECT_EQ(MetricText(1e-4), "0.0001");
  EXPECT_EQ(MetricText(0.0), "0");
  // The text reads back within half a unit of the 4th significant digit.
  for (double v : {8.036412e-7, 0.123456, 3.3333333, 1.0e-9}) {
    const double back = std::strtod(MetricText(v).c_str(), nullptr);
    EXPECT_LE(std::fabs(back - v), 5e-4 * v) << v;
  }
}

}  // namespace
}  // namespace dpmlp
