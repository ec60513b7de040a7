// Neuron inspection: what each hidden neuron selects and what it contributes.
//
// An MLP read as selection and reconstruction: a hidden neuron is useful only
// where its pre-activation z lies in its effective region (neither off nor saturated), and the
// next layer rebuilds the output from the neurons that are effective there. This file computes,
// for a trained network:
//   - for the first hidden layer of a 1-D input model, each neuron's centre and effective
//     interval in raw input coordinates;
//   - for every hidden neuron, the fraction of samples in its effective region (dead or
//     saturated when none are);
//   - for every hidden neuron, the change in loss, accuracy and MSE when its outgoing weights
//     (its column of the next layer's weight matrix) are zeroed.
// Single-process math only: dist/inspect_sharded.h splits the samples across ranks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/model_spec.h"
#include "core/network.h"

namespace dpmlp {

// The effective region of a hidden activation, on its pre-activation z:
//   sigmoid a = sigma(k z): |k z| < 4 (beyond it the slope is below 7% of its peak);
//   tanh: |z| < 2 (slope below 7% of its peak);
//   ReLU, leaky ReLU, ELU: z > 0 (the unit passes its input on);
//   identity: everywhere. Maxout has none: HasEffectiveRegion is false and InEffectiveRegion
//   answers false.
bool HasEffectiveRegion(ActKind a);
bool InEffectiveRegion(const ModelSpec& spec, float z);
// The rule as text for tables and plots: "|k z| < 4", "|z| < 2", "z > 0", "everywhere" or "none".
const char* EffectiveRegionText(ActKind a);

// A first-hidden-layer neuron's effective region on a 1-D raw input x (before the model's input
// normalisation x' = (x - shift) * scale, which this undoes). The region is the open interval
// (lo, hi); lo = -inf or hi = +inf for ReLU-family half-lines; lo and hi NaN when it is empty.
struct InputInterval {
  bool applicable = false;  // 1-D input, first hidden layer, activation with a region
  double centre = 0.0;      // where z = 0, i.e. -b/w in raw x (NaN when w = 0)
  double lo = 0.0, hi = 0.0;
  bool empty() const { return !(lo < hi); }
  double length() const { return empty() ? 0.0 : hi - lo; }
};

// Throws InternalError when unit is out of range; not applicable unless spec.input_dim == 1.
InputInterval FirstLayerInterval(const ModelSpec& spec, const std::vector<float>& params,
                                 const InputTransform& transform, int unit);

// Zeroes the outgoing weights of hidden neuron (layer, unit): column `unit` of layer+1's weight
// matrix in the flat parameters. Throws InternalError when (layer, unit) is not a hidden neuron.
void ZeroOutgoingWeights(const ModelSpec& spec, int layer, int unit, std::vector<float>* params);

// Running per-sample sums of an inspection, kept flat so that one allreduce adds up the ranks'
// shares. Layout: [0] loss, [1] correct, [2] squared error, [3] samples (the intact network),
// then for each hidden neuron (layer by layer, unit order) 4 values: samples in its effective
// region, and the loss, correct and squared-error sums with its outgoing weights zeroed.
class NeuronProbe {
 public:
  static constexpr int kBaseline = 4, kPerNeuron = 4;

  // Buffers are sized once for chunks of up to max_rows samples.
  NeuronProbe(const ModelSpec& spec, const std::vector<float>& params, int max_rows);
  ~NeuronProbe();

  // Adds `rows` samples: x is rows x input_dim, already normalised; labels (classification) or
  // targets (rows x output_dim) as for Network::Loss.
  void Add(const float* x, int rows, const int32_t* labels, const float* targets);

  std::vector<double>& sums() { return sums_; }
  int max_rows() const { return net_.max_rows(); }

 private:
  Network<float> net_;
  // tails_[l]: layers l+1 .. end as a network whose input is hidden layer l's activation, so an
  // ablation re-runs only the layers after the neuron.
  std::vector<std::unique_ptr<Network<float>>> tails_;
  std::vector<float> act_;  // one chunk of a hidden layer's activations, one column zeroed
  std::vector<double> sums_;
};

enum class NeuronState {
  kEffective,  // in its effective region on at least one sample
  kDead,       // ReLU family: z <= 0 on every sample
  kSaturated,  // sigmoid / tanh: outside the region on every sample
  kNoRegion    // maxout: no effective region defined
};
const char* Name(NeuronState s);

struct NeuronReport {
  int layer = 0;  // hidden layer, 0-based (its incoming weights are layer<layer+1>.weight)
  int unit = 0;
  double in_region = 0.0;  // fraction of samples in the effective region (NaN: maxout)
  NeuronState state = NeuronState::kEffective;
  InputInterval interval;  // first hidden layer of a 1-D input model only
  // With the outgoing weights zeroed: mean loss, accuracy and MSE, and their change from the
  // intact network (positive delta_loss: the neuron helped).
  double loss = 0.0, accuracy = 0.0, mse = 0.0;
  double delta_loss = 0.0, delta_accuracy = 0.0, delta_mse = 0.0;
};

struct LayerReport {
  int width = 0;
  int effective = 0;              // neurons with state kEffective
  double effective_fraction = 0;  // effective / width (NaN: maxout)
  double mean_in_region = 0;      // mean over neurons of in_region (NaN: maxout)
};

struct InspectionReport {
  bool classification = false;
  double count = 0;                        // samples scored
  double loss = 0, accuracy = 0, mse = 0;  // the intact network
  std::vector<LayerReport> layers;         // hidden layers, input side first
  std::vector<NeuronReport> neurons;       // layer by layer, unit order
};

// Turns a NeuronProbe's sums (added over all samples) into the report. mse is per output value,
// as in evaluation.
InspectionReport SummarizeInspection(const ModelSpec& spec, const std::vector<float>& params,
                                     const InputTransform& transform,
                                     const std::vector<double>& sums, bool classification);

// Indices into report.neurons, most important first: by delta_loss descending, ties by position.
std::vector<int> ByImportance(const InspectionReport& report);

}  // namespace dpmlp
