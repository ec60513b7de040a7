// bfloat16: the upper 16 bits of an IEEE float (8-bit exponent, 7-bit mantissa), for halving the
// bytes of a gradient on the wire (--grad-wire bf16). Rounds to nearest, ties to even; NaN stays
// NaN and infinities stay infinite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dpmlp {

inline float Bf16ToFloat(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t FloatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline void FloatsToBf16(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = FloatToBf16(in[i]);
}

inline void Bf16ToFloats(const uint16_t* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = Bf16ToFloat(in[i]);
}

}  // namespace dpmlp
