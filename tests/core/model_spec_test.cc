// How a file's model differs from the one the options build (the --init-from check).
#include "core/model_spec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace dpmlp {
namespace {

ModelSpec Spec(std::vector<int> hidden, ActKind act = ActKind::kRelu) {
  ModelSpec s;
  s.input_dim = 784;
  s.hidden = std::move(hidden);
  s.output_dim = 10;
  s.activation = act;
  return s;
}

// Each difference as "field: file | built".
std::vector<std::string> Differences(const ModelSpec& file, const ModelSpec& built) {
  std::vector<std::string> out;
  for (const SpecDifference& d : ArchitectureDifferences(file, built))
    out.push_back(d.field + ": " + d.file + " | " + d.built);
  return out;
}

TEST(ArchitectureDifferencesTest, EqualModelsHaveNone) {
  ModelSpec a = Spec({64}), b = Spec({64});
  b.init = InitKind::kXavier;  // the weights come from the file: the init scheme does not matter
  b.sigmoid_k = 3;             // nor the parameter of an activation neither uses
  EXPECT_TRUE(ArchitectureDifferences(a, b).empty());
}

TEST(ArchitectureDifferencesTest, NamesEachDifferingFieldFileFirst) {
  EXPECT_EQ(Differences(Spec({32}), Spec({64})),
            std::vector<std::string>{"widths: 784-32-10 | 784-64-10"});
  ModelSpec regression = Spec({32});
  regression.output_dim = 1;
  regression.output = OutputKind::kIdentity;
  regression.loss = LossKind::kMse;
  EXPECT_EQ(Differences(Spec({32}), regression),
            (std::vector<std::string>{"widths: 784-32-10 | 784-32-1", "output: softmax | identity",
                                      "loss: cross_entropy | mse"}));
  EXPECT_EQ(Differences(Spec({32}, ActKind::kTanh), Spec({32})),
            std::vector<std::string>{"activation: tanh | relu"});
}

TEST(ArchitectureDifferencesTest, ParameterOfTheSharedActivation) {
  ModelSpec a = Spec({8}, ActKind::kSigmoid), b = Spec({8}, ActKind::kSigmoid);
  b.sigmoid_k = 2;
  EXPECT_EQ(Differences(a, b), std::vector<std::string>{"sigmoid_k: 1 | 2"});
  a = Spec({8}, ActKind::kLeakyRelu), b = Spec({8}, ActKind::kLeakyRelu);
  b.alpha = std::nextafter(0.01f, 1.0f);  // differs in the last bit: shown in full
  const std::vector<std::string> d = Differences(a, b);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].rfind("alpha: 0.00999999", 0), 0u) << d[0];
  EXPECT_NE(d[0].find(" | 0.0100000", 0), std::string::npos) << d[0];
  a = Spec({8}, ActKind::kMaxout), b = Spec({8}, ActKind::kMaxout);
  b.maxout_pieces = 3;
  EXPECT_EQ(Differences(a, b), std::vector<std::string>{"maxout_pieces: 2 | 3"});
}

}  // namespace
}  // namespace dpmlp
