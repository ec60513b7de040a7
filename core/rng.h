// Counter-based randomness. Every random number is a pure function of a key
// (seed, purpose, epoch or step, global sample index, unit), so results never depend on the
// rank count or on what was drawn before. No std::*_distribution anywhere reproducible:
// their algorithms are implementation-defined.
#pragma once

#include <cmath>
#include <cstdint>

namespace dpmlp {

// What a random number is for; keeps streams of different purposes independent.
enum class RngPurpose : uint64_t {
  kInit = 1,
  kShuffle = 2,
  kDropout = 3,
  kAugment = 4,
  kSynthetic = 5,
  kValidationSplit = 6,
  kInputDropout = 7,
};

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Hash of a key of up to five 64-bit words.
inline uint64_t HashKey(uint64_t seed, RngPurpose purpose, uint64_t a = 0, uint64_t b = 0,
                        uint64_t c = 0) {
  uint64_t h = SplitMix64(seed ^ 0x6A09E667F3BCC909ull);
  h = SplitMix64(h ^ static_cast<uint64_t>(purpose));
  h = SplitMix64(h ^ a);
  h = SplitMix64(h ^ b);
  return SplitMix64(h ^ c);
}

// Uniform in [0, 1) with 24 random bits (exactly representable as float).
inline float UniformFromHash(uint64_t h) {
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

// Uniform in (0, 1) as double with 53 bits, never 0 (safe for log).
inline double UniformOpen(uint64_t h) {
  return (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// Standard normal from one key, by Box-Muller over two derived uniforms.
inline double NormalFromHash(uint64_t h) {
  const double u1 = UniformOpen(SplitMix64(h ^ 0x1ull));
  const double u2 = UniformOpen(SplitMix64(h ^ 0x2ull));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace dpmlp
