// Test tool: compares the parameters of two model or checkpoint files.
// Prints "rel_l2 <||a-b|| / ||a||> bitwise <yes|no> params <n>"; exit 2 when the shapes differ.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "proto/model_codec.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: model_diff A B\n");
    return 2;
  }
  try {
    const dpmlp::ModelData a = dpmlp::LoadModelFile(argv[1]);
    const dpmlp::ModelData b = dpmlp::LoadModelFile(argv[2]);
    if (a.params.size() != b.params.size()) {
      std::fprintf(stderr, "model_diff: %zu vs %zu parameters\n", a.params.size(), b.params.size());
      return 2;
    }
    double diff = 0, norm = 0;
    for (size_t i = 0; i < a.params.size(); ++i) {
      const double d = double(a.params[i]) - double(b.params[i]);
      diff += d * d;
      norm += double(a.params[i]) * a.params[i];
    }
    const bool bitwise =
        std::memcmp(a.params.data(), b.params.data(), a.params.size() * sizeof(float)) == 0;
    std::printf("rel_l2 %.3e bitwise %s params %zu\n", std::sqrt(diff / norm),
                bitwise ? "yes" : "no", a.params.size());
    return 0;
  } catch (const dpmlp::Error& e) {
    std::fprintf(stderr, "model_diff: %s\n", e.what());
    return e.code();
  }
}
