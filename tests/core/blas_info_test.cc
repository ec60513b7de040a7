// ForcedKernelNotice: a pure function of the CPU's features, OPENBLAS_CORETYPE and the core
// OpenBLAS selected. Table-driven; the real environment is never changed.
#include "core/blas_info.h"

#include <gtest/gtest.h>

namespace dpmlp {
namespace {

CpuFeatures Avx512() { return {true, true, true, true, true, true}; }
CpuFeatures Avx2() { return {true, true, true, false, false, false}; }
CpuFeatures AvxOnly() { return {true, false, false, false, false, false}; }
CpuFeatures Avx512FOnly() { return {true, true, true, true, false, false}; }  // no BW/VL

struct Case {
  const char* what;
  CpuFeatures cpu;
  const char* env;  // nullptr: unset
  const char* core;
  bool notice;
};

TEST(ForcedKernelNotice, Table) {
  const Case cases[] = {
      {"Zen 5 forced to Haswell", Avx512(), "Haswell", "Haswell", true},
      {"lower-case variable, same core", Avx512(), "haswell", "Haswell", true},
      {"AVX-512 CPU forced to Zen kernels", Avx512(), "ZEN", "Zen", true},
      {"AVX-512 CPU forced to Sandybridge", Avx512(), "Sandybridge", "Sandybridge", true},
      {"AVX2 CPU forced to Sandybridge", Avx2(), "Sandybridge", "Sandybridge", true},
      {"AVX2 CPU forced to Nehalem", Avx2(), "NEHALEM", "Nehalem", true},
      {"AVX-only CPU forced to Nehalem", AvxOnly(), "Nehalem", "Nehalem", true},
      {"variable unset, weak core selected", Avx512(), nullptr, "Haswell", false},
      {"variable empty", Avx512(), "", "Haswell", false},
      {"forced to the native AVX-512 kernel", Avx512(), "SkylakeX", "SkylakeX", false},
      {"Cooperlake kernel on AVX-512", Avx512(), "Cooperlake", "Cooperlake", false},
      {"AVX2 CPU (this EPYC) forced to Haswell", Avx2(), "Haswell", "Haswell", false},
      {"AVX2 CPU forced to Zen", Avx2(), "Zen", "Zen", false},
      {"AVX-512F without BW/VL cannot run SkylakeX", Avx512FOnly(), "Haswell", "Haswell", false},
      {"unknown core name", Avx512(), "Neoverse", "neoversen1", false},
  };
  for (const Case& c : cases) {
    const std::string n = ForcedKernelNotice(c.cpu, c.env, c.core);
    EXPECT_EQ(!n.empty(), c.notice) << c.what << ": \"" << n << "\"";
    if (n.empty()) continue;
    EXPECT_NE(n.find(std::string("OPENBLAS_CORETYPE=") + c.env), std::string::npos) << c.what;
    EXPECT_NE(n.find(std::string(c.core) + " kernel"), std::string::npos) << c.what;
    EXPECT_NE(n.find("unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE"), std::string::npos) << c.what;
  }
}

TEST(ForcedKernelNotice, NamesWhatTheCpuCouldRunAndTheGain) {
  const std::string n = ForcedKernelNotice(Avx512(), "Haswell", "Haswell");
  EXPECT_NE(n.find("could run SkylakeX (AVX-512)"), std::string::npos) << n;
  EXPECT_NE(n.find("about 2x for sgemm on AVX-512 CPUs"), std::string::npos) << n;
  const std::string m = ForcedKernelNotice(Avx2(), "Sandybridge", "Sandybridge");
  EXPECT_NE(m.find("could run Haswell (AVX2)"), std::string::npos) << m;
  EXPECT_EQ(m.find("about 2x"), std::string::npos) << m;  // measured only for AVX-512
}

TEST(QueryBlas, DescribesTheLinkedLibrary) {
  const BlasInfo b = QueryBlas();
  EXPECT_NE(b.config.find("OpenBLAS"), std::string::npos) << b.config;
  EXPECT_FALSE(b.core.empty());
  EXPECT_GE(b.threads, 1);
  EXPECT_EQ(BlasLine(b).rfind("blas: " + b.config + ", core " + b.core, 0), 0u) << BlasLine(b);
}

}  // namespace
}  // namespace dpmlp
