// The MLP: every parameter in one flat buffer, every gradient in a second of the same layout;
// layers are offsets into them (llm.c style), so the optimizer update is one loop and the
// gradient allreduce one call. Forward and backward are sgemm calls plus one fused pass each.
// All work buffers are sized once for `max_rows` rows; nothing allocates per step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/model_spec.h"

namespace dpmlp {

// Where layer l's weight (pre x in, row-major) and bias (pre) live in the flat buffers.
struct LayerSlot {
  int in = 0, pre = 0, out = 0;
  size_t weight_offset = 0, bias_offset = 0;
};

// The offsets of every layer in the flat parameter buffer, and the tensor names used in files.
class ParamLayout {
 public:
  explicit ParamLayout(const ModelSpec& spec);
  const std::vector<LayerSlot>& layers() const { return layers_; }
  size_t size() const { return size_; }
  // true for entries that are weights, false for biases (weight decay skips biases by default).
  std::vector<uint8_t> WeightMask() const;
  static std::string WeightName(int layer) {
    return "layer" + std::to_string(layer + 1) + ".weight";
  }
  static std::string BiasName(int layer) { return "layer" + std::to_string(layer + 1) + ".bias"; }

 private:
  std::vector<LayerSlot> layers_;
  size_t size_ = 0;
};

// Fills params with the spec's initialisation, keyed by (seed, layer, index): identical on every
// rank. Weights ~ normal N(0,1) | normal_scaled N(0,1/n_in) | small 0.01 N(0,1) | xavier
// N(0,2/(n_in+n_out)) | he N(0,2/n_in); biases N(0,1) for normal and normal_scaled (as in the seed
// material), else 0.
template <typename T>
void InitializeParams(const ModelSpec& spec, uint64_t seed, T* params);

// Dropout on hidden activations, keyed by (seed, step, global sample index, layer, unit).
struct DropoutSpec {
  double p = 0.0;  // probability of dropping a hidden unit (0: off)
  uint64_t seed = 0;
  int64_t step = 0;
  const size_t* sample_ids = nullptr;  // global sample index of each row
};

// Loss and counts summed over the rows of one forward pass.
struct BatchStats {
  double loss_sum = 0.0;      // sum over samples of the per-sample loss
  double correct = 0.0;       // classification: correctly predicted samples
  double sq_error_sum = 0.0;  // sum of squared errors over samples and outputs
  double count = 0.0;         // samples
};

// Told by Network::Backward as spans of its gradient buffer become final, so their allreduce can
// start while the rest of backward runs. The spans tile [0, layout().size()) from the end down: the
// last layer first, the first layer last.
class GradientSink {
 public:
  virtual ~GradientSink() = default;
  virtual void Ready(size_t begin, size_t end) = 0;
};

template <typename T>
class Network {
 public:
  // Activations for up to max_rows rows per pass. The gradient buffer is the caller's (see
  // Backward), laid out as layout().
  Network(const ModelSpec& spec, int max_rows);

  const ModelSpec& spec() const { return spec_; }
  const ParamLayout& layout() const { return layout_; }
  int max_rows() const { return max_rows_; }
  std::vector<T>& params() { return params_; }
  const std::vector<T>& params() const { return params_; }

  // x: rows x input_dim. Leaves the output activations in output(); dropout only when given.
  void Forward(const T* x, int rows, const DropoutSpec* dropout = nullptr);
  // Output activations of the last Forward: rows x output_dim (probabilities or values).
  const T* output() const { return a_.back(); }
  // Hidden layer l's activations (before dropout) of the last Forward: rows x out_dim(l).
  const T* hidden_activation(int l) const { return a_[l]; }
  // Layer l's pre-activations z = W x + b of the last Forward (rows x pre_dim(l)).
  const T* pre_activation(int l) const { return z_[l]; }

  // Loss of the last Forward against labels (classification) or targets (rows x output_dim).
  // With want_grad, stores dC/dz of the output layer for Backward. label_smoothing e (softmax
  // cross-entropy on labels only) trains against (1-e)*one_hot + e/classes: loss and gradient
  // both use the smoothed target; accuracy is unaffected.
  BatchStats Loss(int rows, const int32_t* labels, const T* targets, bool want_grad,
                  double label_smoothing = 0.0);

  // Writes the SUM over rows of per-sample gradients into grads[0, layout().size()) (overwriting
  // them; whatever the caller keeps after them is left alone). With a sink, tells it each span as
  // it is final; a layer with more than `chunk` weights (0: no limit) then computes its weight
  // gradient in blocks of rows of about `chunk` entries, each its own span, so the first layer
  // (computed last, and usually by far the largest) need not be finished before its allreduce
  // begins.
  void Backward(const T* x, int rows, T* grads, GradientSink* sink = nullptr, size_t chunk = 0);

  int num_layers() const { return spec_.num_layers(); }

 private:
  void ActivateHidden(int l, int rows);
  void ActivationGrad(int l, int rows);  // d_[l] = (dA of layer l) * f'(.)

  ModelSpec spec_;
  ParamLayout layout_;
  int max_rows_;
  std::vector<T> params_;
  // Per layer, rows x width each: z = Wx + b, a = f(z), the dropout mask and the dropped
  // activations (hidden layers), and d = dC/dz.
  std::vector<std::vector<T>> z_buf_, a_buf_, mask_buf_, drop_buf_, d_buf_;
  std::vector<std::vector<int32_t>> argmax_;  // maxout: winning piece per unit
  std::vector<T*> z_, a_, d_;
  std::vector<const T*> next_input_;  // what layer l+1 reads: a_[l] or its dropped copy
  std::vector<T> scratch_;            // dC/da of a maxout layer before scattering
  bool dropout_active_ = false;
};

extern template class Network<float>;
extern template class Network<double>;

}  // namespace dpmlp
