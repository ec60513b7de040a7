// The architecture of an MLP: layer widths, hidden activation, output, loss and initialisation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace dpmlp {

enum class ActKind { kSigmoid, kTanh, kRelu, kLeakyRelu, kElu, kMaxout, kIdentity };
enum class OutputKind { kSoftmax, kSigmoid, kIdentity };
enum class LossKind { kCrossEntropy, kBinaryCrossEntropy, kMse };
enum class InitKind { kNormal, kNormalScaled, kSmall, kXavier, kHe };

struct ModelSpec {
  int input_dim = 0;
  std::vector<int> hidden;  // hidden widths, input side first
  int output_dim = 0;
  ActKind activation = ActKind::kRelu;
  float sigmoid_k = 1.0f;  // a = sigmoid(k z) for hidden sigmoid units
  float alpha = 0.01f;     // leaky ReLU slope / ELU scale
  int maxout_pieces = 2;
  OutputKind output = OutputKind::kSoftmax;
  LossKind loss = LossKind::kCrossEntropy;
  InitKind init = InitKind::kHe;

  int num_layers() const { return static_cast<int>(hidden.size()) + 1; }
  // Width of layer l's output after its activation (l = 0 .. num_layers()-1).
  int out_dim(int l) const { return l + 1 < num_layers() ? hidden[l] : output_dim; }
  int in_dim(int l) const { return l == 0 ? input_dim : hidden[l - 1]; }
  // Rows of layer l's weight matrix: out_dim, times the pieces for a maxout hidden layer.
  int pre_dim(int l) const {
    return (activation == ActKind::kMaxout && l + 1 < num_layers()) ? out_dim(l) * maxout_pieces
                                                                    : out_dim(l);
  }
  int64_t parameter_count() const;
  // Every layer's width from the input to the output, joined by sep: "784-256-128-10".
  std::string Widths(const std::string& sep = "-") const;
  static constexpr int64_t kMaxParameters = int64_t{1} << 28;  // 1 GiB of floats per buffer
  // Throws SpecError naming the field (hidden, output, sigmoid_k, ...) that breaks a rule.
  void Validate() const;
};

// A ModelSpec field that breaks a rule (exit code 2). field() is the spec's own name for it:
// input_dim, output_dim, hidden, sigmoid_k, alpha, maxout_pieces or output (with the loss that
// does not go with it); what() is "FIELD: DETAIL". The launcher names its options instead.
class SpecError : public Error {
 public:
  SpecError(const std::string& field, const std::string& detail)
      : Error(kExitUsage, field + ": " + detail), field_(field), detail_(detail) {}
  const std::string& field() const { return field_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string field_, detail_;
};

// Names as used on the command line and in files; Parse* throw UsageError naming `what` (the
// caller's name for the value: an option, or a field of a file).
const char* Name(ActKind k);
const char* Name(OutputKind k);
const char* Name(LossKind k);
const char* Name(InitKind k);
ActKind ParseActivation(const std::string& s, const std::string& what);
OutputKind ParseOutput(const std::string& s, const std::string& what);
LossKind ParseLoss(const std::string& s, const std::string& what);
InitKind ParseInit(const std::string& s, const std::string& what);
// The initialisation that suits an activation: He for the ReLU family, Xavier for sigmoid/tanh.
InitKind DefaultInit(ActKind a);
// Parses "256,128" into widths; throws UsageError quoting the text when empty or on a zero width.
std::vector<int> ParseLayers(const std::string& s);

// A field in which two specs differ, with each side's value as text.
struct SpecDifference {
  std::string field, file, built;
};
// How the model in a file differs from the one the options build, field by field: "widths"
// (input to output, as Widths()), "activation", the parameter of the activation both use
// ("sigmoid_k", "alpha" or "maxout_pieces"), "output", "loss". Not "init": the weights come from
// the file. Empty when they agree.
std::vector<SpecDifference> ArchitectureDifferences(const ModelSpec& file, const ModelSpec& built);

}  // namespace dpmlp
