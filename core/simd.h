// DPMLP_SIMD_CLONES: compile a hot elementwise function twice, for AVX2+FMA and for the baseline
// x86-64 (SSE2), and pick one when the program loads (GCC function multiversioning via ifunc).
// The binary stays portable; machines with AVX2 run the loops at twice the vector width. Only
// GCC on x86-64; elsewhere it is empty and the function is built once.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DPMLP_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DPMLP_SIMD_CLONES
#endif
