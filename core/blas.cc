// The one file that calls OpenBLAS's own (non-CBLAS) functions.
#include "core/blas.h"

#include <strings.h>

#include <iterator>

#include "core/blas_info.h"

namespace dpmlp {

// OpenBLAS's cblas.h declares its thread-pool controls and self-description.
void SetBlasThreads(int threads) { openblas_set_num_threads(threads); }
int BlasThreads() { return openblas_get_num_threads(); }

BlasInfo QueryBlas() {
  BlasInfo info;
  const char* config = openblas_get_config();
  const char* core = openblas_get_corename();
  info.config = config ? config : "?";
  info.core = core ? core : "?";
  info.threads = openblas_get_num_threads();
  return info;
}

std::string BlasLine(const BlasInfo& info) {
  return "blas: " + info.config + ", core " + info.core + ", " + std::to_string(info.threads) +
         " thread(s) per rank";
}

CpuFeatures DetectCpuFeatures() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.avx = __builtin_cpu_supports("avx");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  return f;
}

namespace {

// Vector level of a kernel set or a CPU: 0 SSE and older, 1 AVX, 2 AVX2+FMA, 3 AVX-512 (F, BW,
// VL: what OpenBLAS's SkylakeX kernels need).
int CpuLevel(const CpuFeatures& f) {
  if (f.avx512f && f.avx512bw && f.avx512vl) return 3;
  if (f.avx2 && f.fma) return 2;
  return f.avx ? 1 : 0;
}

// OpenBLAS's x86-64 core names (its gotoblas_corename() spellings) by level; unknown names
// (other architectures, future cores) return -1 and never cause a notice.
int CoreLevel(const std::string& core) {
  static const char* const kAvx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
  static const char* const kAvx2[] = {"Haswell", "Zen", "Excavator"};
  static const char* const kAvx[] = {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller"};
  static const char* const kOld[] = {
      "Prescott",   "Core2",         "Penryn",    "Dunnington", "Nehalem", "Atom",
      "Opteron",    "Opteron(SSE3)", "Barcelona", "Nano",       "Bobcat",  "Katmai",
      "Coppermine", "Northwood",     "Banias",    "Athlon",     "Unknown"};
  auto in = [&](const char* const* b, const char* const* e) {
    for (; b != e; ++b)
      if (strcasecmp(core.c_str(), *b) == 0) return true;
    return false;
  };
  if (in(std::begin(kAvx512), std::end(kAvx512))) return 3;
  if (in(std::begin(kAvx2), std::end(kAvx2))) return 2;
  if (in(std::begin(kAvx), std::end(kAvx))) return 1;
  if (in(std::begin(kOld), std::end(kOld))) return 0;
  return -1;
}

}  // namespace

std::string ForcedKernelNotice(const CpuFeatures& cpu, const char* coretype_env,
                               const std::string& selected_core) {
  if (coretype_env == nullptr || coretype_env[0] == '\0') return "";
  const int kernel = CoreLevel(selected_core);
  const int best = CpuLevel(cpu);
  if (kernel < 0 || kernel >= best) return "";
  static const char* const kBest[] = {"", "Sandybridge (AVX)", "Haswell (AVX2)",
                                      "SkylakeX (AVX-512)"};
  const std::string gain = best == 3 ? "about 2x for sgemm on AVX-512 CPUs"
                                     : "a faster sgemm (not measured for this pair)";
  return std::string("notice: OPENBLAS_CORETYPE=") + coretype_env + " forces OpenBLAS's " +
         selected_core + " kernel; this CPU could run " + kBest[best] + ", expected gain " + gain +
         "; to use it: unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE";
}

}  // namespace dpmlp
