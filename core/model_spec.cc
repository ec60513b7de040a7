#include "core/model_spec.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"

namespace dpmlp {
namespace {

template <typename E, size_t N>
E ParseEnum(const std::string& s, const std::string& option,
            const std::pair<const char*, E> (&table)[N]) {
  std::string valid;
  for (const auto& [name, value] : table) {
    if (s == name) return value;
    valid += valid.empty() ? name : std::string("|") + name;
  }
  throw UsageError("unknown value '" + s + "' for " + option + " (valid: " + valid + ")");
}

const std::pair<const char*, ActKind> kActs[] = {
    {"sigmoid", ActKind::kSigmoid},      {"tanh", ActKind::kTanh}, {"relu", ActKind::kRelu},
    {"leaky_relu", ActKind::kLeakyRelu}, {"elu", ActKind::kElu},   {"maxout", ActKind::kMaxout},
    {"identity", ActKind::kIdentity}};
const std::pair<const char*, OutputKind> kOutputs[] = {{"softmax", OutputKind::kSoftmax},
                                                       {"sigmoid", OutputKind::kSigmoid},
                                                       {"identity", OutputKind::kIdentity}};
const std::pair<const char*, LossKind> kLosses[] = {
    {"cross_entropy", LossKind::kCrossEntropy},
    {"binary_cross_entropy", LossKind::kBinaryCrossEntropy},
    {"mse", LossKind::kMse}};
const std::pair<const char*, InitKind> kInits[] = {{"normal", InitKind::kNormal},
                                                   {"normal_scaled", InitKind::kNormalScaled},
                                                   {"small", InitKind::kSmall},
                                                   {"xavier", InitKind::kXavier},
                                                   {"he", InitKind::kHe}};

template <typename E, size_t N>
const char* EnumName(E v, const std::pair<const char*, E> (&table)[N]) {
  for (const auto& [name, value] : table)
    if (value == v) return name;
  return "?";
}

}  // namespace

const char* Name(ActKind k) { return EnumName(k, kActs); }
const char* Name(OutputKind k) { return EnumName(k, kOutputs); }
const char* Name(LossKind k) { return EnumName(k, kLosses); }
const char* Name(InitKind k) { return EnumName(k, kInits); }
ActKind ParseActivation(const std::string& s, const std::string& o) {
  return ParseEnum(s, o, kActs);
}
OutputKind ParseOutput(const std::string& s, const std::string& o) {
  return ParseEnum(s, o, kOutputs);
}
LossKind ParseLoss(const std::string& s, const std::string& o) { return ParseEnum(s, o, kLosses); }
InitKind ParseInit(const std::string& s, const std::string& o) { return ParseEnum(s, o, kInits); }

InitKind DefaultInit(ActKind a) {
  switch (a) {
    case ActKind::kSigmoid:
    case ActKind::kTanh:
    case ActKind::kIdentity:
      return InitKind::kXavier;
    default:
      return InitKind::kHe;
  }
}

std::vector<int> ParseLayers(const std::string& s) {
  std::vector<int> widths;
  if (s.empty()) throw UsageError("'' has no layer widths: give the hidden widths, e.g. 256,128");
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    int w = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), w);
    if (ec != std::errc() || end != item.data() + item.size() || w <= 0 || w > 1000000)
      throw UsageError("'" + item + "' in '" + s +
                       "' is not a positive layer width (example: 256,128)");
    widths.push_back(w);
  }
  if (!s.empty() && s.back() == ',')
    throw UsageError("empty layer width at the end of '" + s + "'");
  return widths;
}

std::string ModelSpec::Widths(const std::string& sep) const {
  std::string w = std::to_string(input_dim);
  for (int h : hidden) w += sep + std::to_string(h);
  return w + sep + std::to_string(output_dim);
}

int64_t ModelSpec::parameter_count() const {
  int64_t n = 0;
  for (int l = 0; l < num_layers(); ++l) {
    const int64_t pieces =
        (activation == ActKind::kMaxout && l + 1 < num_layers()) ? maxout_pieces : 1;
    const int64_t pre = int64_t{out_dim(l)} * pieces;
    n += pre * in_dim(l) + pre;
  }
  return n;
}

void ModelSpec::Validate() const {
  // Widths are bounded first, so that every product below fits comfortably in 64 bits.
  constexpr int kMaxWidth = 1 << 24;
  const std::string most = " (at most " + std::to_string(kMaxWidth) + ")";
  if (input_dim <= 0)
    throw SpecError("input_dim", "must be positive (got " + std::to_string(input_dim) + ")");
  if (output_dim <= 0)
    throw SpecError("output_dim", "must be positive (got " + std::to_string(output_dim) + ")");
  if (input_dim > kMaxWidth) throw SpecError("input_dim", "absurdly large" + most);
  if (output_dim > kMaxWidth) throw SpecError("output_dim", "absurdly large" + most);
  for (int w : hidden) {
    if (w <= 0) throw SpecError("hidden", "layer widths must be positive");
    if (w > kMaxWidth)
      throw SpecError("hidden", "width " + std::to_string(w) + " is absurdly large" + most);
  }
  if (hidden.size() > 1000) throw SpecError("hidden", "more than 1000 hidden layers");
  if (activation == ActKind::kSigmoid && !(sigmoid_k > 0.0f && std::isfinite(sigmoid_k)))
    throw SpecError("sigmoid_k", "must be positive and finite");
  if ((activation == ActKind::kLeakyRelu || activation == ActKind::kElu) &&
      !(alpha >= 0.0f && std::isfinite(alpha)))
    throw SpecError("alpha", "must be non-negative and finite");
  if (activation == ActKind::kMaxout && (maxout_pieces < 2 || maxout_pieces > 16))
    throw SpecError("maxout_pieces", "must be between 2 and 16");
  const bool ok = (output == OutputKind::kSoftmax && loss == LossKind::kCrossEntropy) ||
                  (output == OutputKind::kSigmoid && loss == LossKind::kBinaryCrossEntropy) ||
                  (output == OutputKind::kSigmoid && loss == LossKind::kMse) ||
                  (output == OutputKind::kIdentity && loss == LossKind::kMse);
  if (!ok)
    throw SpecError("output", std::string(Name(output)) + " does not go with loss " + Name(loss) +
                                  " (valid pairs: softmax+cross_entropy, "
                                  "sigmoid+binary_cross_entropy, sigmoid+mse, identity+mse)");
  if (output == OutputKind::kSoftmax && output_dim < 2)
    throw SpecError("output", "softmax needs at least 2 classes");
  if (parameter_count() > kMaxParameters)
    throw SpecError("hidden", "absurd parameter count " + std::to_string(parameter_count()) +
                                  " (at most " + std::to_string(kMaxParameters) + ")");
}

std::vector<SpecDifference> ArchitectureDifferences(const ModelSpec& file, const ModelSpec& built) {
  std::vector<SpecDifference> out;
  auto diff = [&](const char* field, const std::string& a, const std::string& b) {
    if (a != b) out.push_back({field, a, b});
  };
  // Floats compare exactly; shown short, or in full where the short forms look alike.
  auto floats = [&](const char* field, float a, float b) {
    if (a == b) return;
    auto show = [](float v, const char* format) {
      char buf[32];
      std::snprintf(buf, sizeof buf, format, static_cast<double>(v));
      return std::string(buf);
    };
    const bool alike = show(a, "%g") == show(b, "%g");
    out.push_back({field, show(a, alike ? "%.9g" : "%g"), show(b, alike ? "%.9g" : "%g")});
  };
  diff("widths", file.Widths(), built.Widths());
  diff("activation", Name(file.activation), Name(built.activation));
  if (file.activation == built.activation) {  // the parameter of the activation both use
    if (file.activation == ActKind::kSigmoid) floats("sigmoid_k", file.sigmoid_k, built.sigmoid_k);
    if (file.activation == ActKind::kLeakyRelu || file.activation == ActKind::kElu)
      floats("alpha", file.alpha, built.alpha);
    if (file.activation == ActKind::kMaxout)
      diff("maxout_pieces", std::to_string(file.maxout_pieces),
           std::to_string(built.maxout_pieces));
  }
  diff("output", Name(file.output), Name(built.output));
  diff("loss", Name(file.loss), Name(built.loss));
  return out;
}

}  // namespace dpmlp
