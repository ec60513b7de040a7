// Which BLAS runs: the library's own description of itself, and the notice for a kernel forced
// weaker than the CPU supports (OPENBLAS_CORETYPE). The OpenBLAS-specific calls live in blas.cc.
#pragma once

#include <string>

namespace dpmlp {

struct BlasInfo {
  std::string config;  // openblas_get_config(): version and build, e.g. "OpenBLAS 0.3.21 ... Zen"
  std::string core;    // openblas_get_corename(): the kernel set it selected, e.g. "Haswell"
  int threads = 0;     // openblas_get_num_threads(): threads per call (per rank)
};

// What the linked OpenBLAS reports about itself, now.
BlasInfo QueryBlas();

// "blas: OpenBLAS 0.3.21 ..., core Haswell, 1 thread(s) per rank"
std::string BlasLine(const BlasInfo& info);

// Vector extensions of the CPU that decide which OpenBLAS kernel it can run.
struct CpuFeatures {
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
};

// This CPU's features (cpuid via __builtin_cpu_supports).
CpuFeatures DetectCpuFeatures();

// The notice to print when `coretype_env` (OPENBLAS_CORETYPE; null or empty when unset) made
// OpenBLAS select `selected_core`, a kernel of a lower vector level than `cpu` can run; empty
// when no notice is due (variable unset, or the kernel is as good as the CPU allows).
std::string ForcedKernelNotice(const CpuFeatures& cpu, const char* coretype_env,
                               const std::string& selected_core);

}  // namespace dpmlp
