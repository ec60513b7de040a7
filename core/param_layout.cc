// The flat parameter vector: where each layer's weights and biases live, and their initialisation.
#include <cmath>

#include "core/network.h"
#include "core/rng.h"

namespace dpmlp {

ParamLayout::ParamLayout(const ModelSpec& spec) {
  for (int l = 0; l < spec.num_layers(); ++l) {
    LayerSlot s;
    s.in = spec.in_dim(l);
    s.pre = spec.pre_dim(l);
    s.out = spec.out_dim(l);
    s.weight_offset = size_;
    size_ += static_cast<size_t>(s.pre) * s.in;
    s.bias_offset = size_;
    size_ += s.pre;
    layers_.push_back(s);
  }
}

std::vector<uint8_t> ParamLayout::WeightMask() const {
  std::vector<uint8_t> mask(size_, 0);
  for (const LayerSlot& s : layers_)
    std::fill(mask.begin() + s.weight_offset, mask.begin() + s.bias_offset, 1);
  return mask;
}

template <typename T>
void InitializeParams(const ModelSpec& spec, uint64_t seed, T* params) {
  ParamLayout layout(spec);
  for (int l = 0; l < spec.num_layers(); ++l) {
    const LayerSlot& s = layout.layers()[l];
    double wstd = 1.0, bstd = 0.0;
    switch (spec.init) {
      case InitKind::kNormal:
        wstd = 1.0;
        bstd = 1.0;
        break;
      case InitKind::kNormalScaled:
        wstd = 1.0 / std::sqrt(double(s.in));
        bstd = 1.0;
        break;
      case InitKind::kSmall:
        wstd = 0.01;
        break;
      case InitKind::kXavier:
        wstd = std::sqrt(2.0 / (s.in + s.out));
        break;
      case InitKind::kHe:
        wstd = std::sqrt(2.0 / s.in);
        break;
    }
    const size_t nw = static_cast<size_t>(s.pre) * s.in;
    for (size_t i = 0; i < nw; ++i)
      params[s.weight_offset + i] =
          T(wstd * NormalFromHash(HashKey(seed, RngPurpose::kInit, l, i, 0)));
    for (int j = 0; j < s.pre; ++j)
      params[s.bias_offset + j] =
          bstd == 0.0 ? T(0) : T(bstd * NormalFromHash(HashKey(seed, RngPurpose::kInit, l, j, 1)));
  }
}

template void InitializeParams<float>(const ModelSpec&, uint64_t, float*);
template void InitializeParams<double>(const ModelSpec&, uint64_t, double*);

}  // namespace dpmlp
