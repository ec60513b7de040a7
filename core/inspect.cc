#include "core/inspect.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace dpmlp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

bool ReluFamily(ActKind a) {
  return a == ActKind::kRelu || a == ActKind::kLeakyRelu || a == ActKind::kElu;
}

int HiddenNeurons(const ModelSpec& spec) {
  return std::accumulate(spec.hidden.begin(), spec.hidden.end(), 0);
}

// The network made of layers first .. end of `spec`, fed by hidden layer first-1's activations.
ModelSpec TailSpec(const ModelSpec& spec, int first) {
  ModelSpec tail = spec;
  tail.input_dim = spec.out_dim(first - 1);
  tail.hidden.assign(spec.hidden.begin() + first, spec.hidden.end());
  return tail;
}

void CheckHiddenNeuron(const ModelSpec& spec, int layer, int unit) {
  if (layer < 0 || layer + 1 >= spec.num_layers() || unit < 0 || unit >= spec.hidden[layer])
    throw InternalError("no hidden neuron " + std::to_string(layer + 1) + ":" +
                        std::to_string(unit));
}

}  // namespace

bool HasEffectiveRegion(ActKind a) { return a != ActKind::kMaxout; }

bool InEffectiveRegion(const ModelSpec& spec, float z) {
  switch (spec.activation) {
    case ActKind::kSigmoid:
      return std::fabs(spec.sigmoid_k * z) < 4.0f;
    case ActKind::kTanh:
      return std::fabs(z) < 2.0f;
    case ActKind::kRelu:
    case ActKind::kLeakyRelu:
    case ActKind::kElu:
      return z > 0.0f;
    case ActKind::kIdentity:
      return true;
    case ActKind::kMaxout:
      return false;
  }
  return false;
}

const char* EffectiveRegionText(ActKind a) {
  switch (a) {
    case ActKind::kSigmoid:
      return "|k z| < 4";
    case ActKind::kTanh:
      return "|z| < 2";
    case ActKind::kRelu:
    case ActKind::kLeakyRelu:
    case ActKind::kElu:
      return "z > 0";
    case ActKind::kIdentity:
      return "everywhere";
    case ActKind::kMaxout:
      return "none";
  }
  return "?";
}

InputInterval FirstLayerInterval(const ModelSpec& spec, const std::vector<float>& params,
                                 const InputTransform& transform, int unit) {
  CheckHiddenNeuron(spec, 0, unit);
  InputInterval iv;
  if (spec.input_dim != 1 || !HasEffectiveRegion(spec.activation)) return iv;
  iv.applicable = true;
  const LayerSlot s = ParamLayout(spec).layers()[0];
  const double w = params[s.weight_offset + unit], b = params[s.bias_offset + unit];
  // z = w x' + b with x' = (x - shift) scale, i.e. z = w_raw x + b_raw in raw coordinates.
  const double shift = transform.shift.empty() ? 0.0 : transform.shift[0];
  const double scale = transform.scale.empty() ? 1.0 : transform.scale[0];
  const double w_raw = w * scale, b_raw = b - w * scale * shift;
  if (w_raw == 0.0) {
    // z is the constant b: the region is everywhere or nowhere.
    iv.centre = kNaN;
    const bool on = InEffectiveRegion(spec, static_cast<float>(b_raw));
    iv.lo = on ? -kInf : kNaN;
    iv.hi = on ? kInf : kNaN;
    return iv;
  }
  iv.centre = -b_raw / w_raw;
  if (ReluFamily(spec.activation)) {
    // z > 0: right of the centre for w > 0, left of it for w < 0.
    iv.lo = w_raw > 0 ? iv.centre : -kInf;
    iv.hi = w_raw > 0 ? kInf : iv.centre;
    return iv;
  }
  // |z| < r  <=>  |x - centre| < r / |w_raw|; r = 4/k for sigmoid(k z), 2 for tanh, inf for
  // identity.
  const double r = spec.activation == ActKind::kSigmoid ? 4.0 / spec.sigmoid_k
                   : spec.activation == ActKind::kTanh  ? 2.0
                                                        : kInf;
  const double half = r / std::fabs(w_raw);
  iv.lo = iv.centre - half;
  iv.hi = iv.centre + half;
  return iv;
}

void ZeroOutgoingWeights(const ModelSpec& spec, int layer, int unit, std::vector<float>* params) {
  CheckHiddenNeuron(spec, layer, unit);
  const LayerSlot next = ParamLayout(spec).layers()[layer + 1];
  for (int row = 0; row < next.pre; ++row)
    (*params)[next.weight_offset + static_cast<size_t>(row) * next.in + unit] = 0.0f;
}

NeuronProbe::NeuronProbe(const ModelSpec& spec, const std::vector<float>& params, int max_rows)
    : net_(spec, max_rows) {
  net_.params() = params;
  const ParamLayout& layout = net_.layout();
  size_t widest = 0;
  for (int l = 0; l + 1 < spec.num_layers(); ++l) {
    auto tail = std::make_unique<Network<float>>(TailSpec(spec, l + 1), max_rows);
    // The tail's layers are a suffix of the flat layout: its parameters are the buffer's tail.
    tail->params().assign(params.begin() + layout.layers()[l + 1].weight_offset, params.end());
    tails_.push_back(std::move(tail));
    widest = std::max(widest, static_cast<size_t>(spec.hidden[l]));
  }
  act_.assign(widest * net_.max_rows(), 0.0f);
  sums_.assign(kBaseline + static_cast<size_t>(kPerNeuron) * HiddenNeurons(spec), 0.0);
}

NeuronProbe::~NeuronProbe() = default;

void NeuronProbe::Add(const float* x, int rows, const int32_t* labels, const float* targets) {
  if (rows <= 0) return;
  if (rows > net_.max_rows()) throw InternalError("NeuronProbe::Add: more rows than its buffers");
  const ModelSpec& spec = net_.spec();
  auto add_stats = [](const BatchStats& st, double* out) {
    out[0] += st.loss_sum, out[1] += st.correct, out[2] += st.sq_error_sum;
  };
  net_.Forward(x, rows);
  const BatchStats base = net_.Loss(rows, labels, targets, false);
  add_stats(base, sums_.data());
  sums_[3] += base.count;
  double* neuron = sums_.data() + kBaseline;
  const bool has_region = HasEffectiveRegion(spec.activation);
  for (int l = 0; l + 1 < spec.num_layers(); ++l) {
    const int width = spec.hidden[l];
    const float* z = net_.pre_activation(l);  // rows x width, since maxout is skipped here
    if (has_region)
      for (int r = 0; r < rows; ++r)
        for (int u = 0; u < width; ++u)
          if (InEffectiveRegion(spec, z[static_cast<size_t>(r) * width + u]))
            neuron[static_cast<size_t>(u) * kPerNeuron] += 1.0;
    // Zeroing column u of the next layer's weights and zeroing the input u it multiplies give
    // the same products (0 either way), so the tail sees the ablated network exactly.
    const float* a = net_.hidden_activation(l);
    std::copy(a, a + static_cast<size_t>(rows) * width, act_.begin());
    Network<float>& tail = *tails_[l];
    for (int u = 0; u < width; ++u) {
      for (int r = 0; r < rows; ++r) act_[static_cast<size_t>(r) * width + u] = 0.0f;
      tail.Forward(act_.data(), rows);
      add_stats(tail.Loss(rows, labels, targets, false),
                neuron + static_cast<size_t>(u) * kPerNeuron + 1);
      for (int r = 0; r < rows; ++r)
        act_[static_cast<size_t>(r) * width + u] = a[static_cast<size_t>(r) * width + u];
    }
    neuron += static_cast<size_t>(kPerNeuron) * width;
  }
}

const char* Name(NeuronState s) {
  switch (s) {
    case NeuronState::kEffective:
      return "effective";
    case NeuronState::kDead:
      return "dead";
    case NeuronState::kSaturated:
      return "saturated";
    case NeuronState::kNoRegion:
      return "n/a";
  }
  return "?";
}

InspectionReport SummarizeInspection(const ModelSpec& spec, const std::vector<float>& params,
                                     const InputTransform& transform,
                                     const std::vector<double>& sums, bool classification) {
  const size_t expected =
      NeuronProbe::kBaseline + static_cast<size_t>(NeuronProbe::kPerNeuron) * HiddenNeurons(spec);
  if (sums.size() != expected) throw InternalError("SummarizeInspection: sums of the wrong size");
  InspectionReport rep;
  rep.classification = classification;
  rep.count = sums[3];
  const double n = std::max(1.0, rep.count);
  const double values = n * spec.output_dim;
  rep.loss = sums[0] / n, rep.accuracy = sums[1] / n, rep.mse = sums[2] / values;
  const bool has_region = HasEffectiveRegion(spec.activation);
  const double* s = sums.data() + NeuronProbe::kBaseline;
  for (int l = 0; l + 1 < spec.num_layers(); ++l) {
    LayerReport layer;
    layer.width = spec.hidden[l];
    double in_region_sum = 0.0;
    for (int u = 0; u < layer.width; ++u, s += NeuronProbe::kPerNeuron) {
      NeuronReport nr;
      nr.layer = l, nr.unit = u;
      nr.in_region = has_region ? s[0] / n : kNaN;
      nr.state = !has_region                   ? NeuronState::kNoRegion
                 : s[0] > 0                    ? NeuronState::kEffective
                 : ReluFamily(spec.activation) ? NeuronState::kDead
                                               : NeuronState::kSaturated;
      if (l == 0) nr.interval = FirstLayerInterval(spec, params, transform, u);
      nr.loss = s[1] / n, nr.accuracy = s[2] / n, nr.mse = s[3] / values;
      nr.delta_loss = (s[1] - sums[0]) / n;
      nr.delta_accuracy = (s[2] - sums[1]) / n;
      nr.delta_mse = (s[3] - sums[2]) / values;
      layer.effective += nr.state == NeuronState::kEffective ? 1 : 0;
      in_region_sum += nr.in_region;
      rep.neurons.push_back(nr);
    }
    layer.effective_fraction = has_region ? double(layer.effective) / layer.width : kNaN;
    layer.mean_in_region = in_region_sum / layer.width;
    rep.layers.push_back(layer);
  }
  return rep;
}

std::vector<int> ByImportance(const InspectionReport& report) {
  std::vector<int> order(report.neurons.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](int i) {  // a non-finite loss ranks last rather than breaking the order
    const double d = report.neurons[i].delta_loss;
    return std::isnan(d) ? -kInf : d;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) > key(b); });
  return order;
}

}  // namespace dpmlp
