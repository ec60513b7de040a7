// bfloat16 conversion: exact for values with 8 significant bits, round to nearest with ties to
// even otherwise, overflow to infinity, NaN kept NaN.
#include "core/bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace dpmlp {
namespace {

TEST(Bf16Test, ValuesWithEightSignificantBitsRoundTripExactly) {
  for (int m = -255; m <= 255; ++m)
    for (int e = -100; e <= 100; e += 7) {
      const float v = std::ldexp(static_cast<float>(m), e);
      EXPECT_EQ(Bf16ToFloat(FloatToBf16(v)), v) << m << " * 2^" << e;
    }
}

TEST(Bf16Test, RoundsToNearestWithTiesToEven) {
  // Between 1 and 1 + 2^-7 (neighbours in bf16), 2^-8 above 1 is the tie.
  const float ulp = std::ldexp(1.0f, -7);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + ulp / 4)), 1.0f);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + 3 * ulp / 4)), 1.0f + ulp);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + ulp / 2)), 1.0f);                  // tie: to even
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + 3 * ulp / 2)), 1.0f + 2 * ulp);    // tie: to even
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(-(1.0f + 3 * ulp / 4))), -(1.0f + ulp));  // sign kept
  // The relative error of any rounding is at most half a unit in the 8th bit.
  for (float v = 1e-3f; v < 1e3f; v *= 1.0371f)
    EXPECT_LE(std::fabs(Bf16ToFloat(FloatToBf16(v)) - v), std::ldexp(v, -8)) << v;
}

TEST(Bf16Test, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(inf)), inf);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(-inf)), -inf);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::nanf("")))));
  // A NaN whose payload sits only in the low 16 bits must not become infinity.
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::nanf("1")))));
  // The largest float rounds up past bf16's largest finite value: infinity.
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(std::numeric_limits<float>::max())), inf);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(0.0f)), 0.0f);
  EXPECT_TRUE(std::signbit(Bf16ToFloat(FloatToBf16(-0.0f))));
}

TEST(Bf16Test, ArrayConversionsMatchTheScalarOnes) {
  std::vector<float> v = {0.1f, -2.7f, 3e-20f, 65504.5f, 1.0f};
  std::vector<uint16_t> h(v.size());
  std::vector<float> back(v.size());
  FloatsToBf16(v.data(), h.data(), v.size());
  Bf16ToFloats(h.data(), back.data(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(h[i], FloatToBf16(v[i]));
    EXPECT_EQ(back[i], Bf16ToFloat(h[i]));
  }
}

}  // namespace
}  // namespace dpmlp
