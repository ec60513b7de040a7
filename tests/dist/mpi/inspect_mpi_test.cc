// Neuron inspection sharded over the real MPI world (CTest runs this binary at np = 1, 2 and 3)
// equals the same inspection by one process over all samples: region counts, states and accuracy
// changes exactly, losses and their ablation changes to float precision. Includes a data set
// smaller than the world, where some ranks score nothing but still join the allreduce.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/dataset.h"
#include "core/inspect.h"
#include "core/network.h"
#include "core/rng.h"
#include "dist/communicator.h"
#include "dist/inspect_sharded.h"
#include "tests/dist/mpi/world.h"

namespace dpmlp {
namespace {

using mpi_test::World;

// n samples of `dim` features from a counter-based hash: identical on every rank.
Dataset Samples(size_t n, size_t dim, int classes, int targets) {
  Dataset d;
  d.source = "hash samples";
  d.size = n;
  d.input_dim = dim;
  d.values.resize(n * dim);
  for (size_t i = 0; i < d.values.size(); ++i)
    d.values[i] = float(1.5 * NormalFromHash(HashKey(21, RngPurpose::kSynthetic, i)));
  if (classes > 0) {
    d.num_classes = classes;
    for (size_t i = 0; i < n; ++i)
      d.labels.push_back(int32_t(HashKey(22, RngPurpose::kSynthetic, i) % classes));
  } else {
    d.target_dim = targets;
    for (size_t i = 0; i < n * targets; ++i)
      d.targets.push_back(float(NormalFromHash(HashKey(23, RngPurpose::kSynthetic, i))));
  }
  return d;
}

// Per-sample outputs are floats whose last bit may depend on how many rows one sgemm call
// holds, so losses agree to float precision of the loss's scale; counts agree exactly.
void ExpectSameReport(const InspectionReport& got, const InspectionReport& want) {
  const double tol = 1e-6 * std::max(1.0, std::fabs(want.loss));
  auto near = [&](double a, double b) { return std::fabs(a - b) <= tol; };
  EXPECT_EQ(got.count, want.count);
  EXPECT_TRUE(near(got.loss, want.loss)) << got.loss << " vs " << want.loss;
  EXPECT_EQ(got.accuracy, want.accuracy);
  EXPECT_NEAR(got.mse, want.mse, 1e-6 * std::max(1.0, want.mse));
  ASSERT_EQ(got.neurons.size(), want.neurons.size());
  for (size_t i = 0; i < got.neurons.size(); ++i) {
    const NeuronReport &g = got.neurons[i], &w = want.neurons[i];
    const std::string id = std::to_string(w.layer + 1) + ":" + std::to_string(w.unit);
    if (std::isnan(w.in_region))
      EXPECT_TRUE(std::isnan(g.in_region)) << id;
    else
      EXPECT_EQ(g.in_region, w.in_region) << id;  // exact: counts of samples
    EXPECT_EQ(g.state, w.state) << id;
    EXPECT_TRUE(near(g.delta_loss, w.delta_loss))
        << id << ": " << g.delta_loss << " vs " << w.delta_loss;
    EXPECT_EQ(g.delta_accuracy, w.delta_accuracy) << id;
    EXPECT_NEAR(g.delta_mse, w.delta_mse, 1e-6 * std::max(1.0, want.mse)) << id;
  }
  ASSERT_EQ(got.layers.size(), want.layers.size());
  for (size_t l = 0; l < got.layers.size(); ++l)
    EXPECT_EQ(got.layers[l].effective, want.layers[l].effective);
}

struct Case {
  ActKind act;
  size_t samples;
  int classes, targets;
};

TEST(InspectShardedTest, EqualsOneProcessOverAllSamples) {
  const Case cases[] = {{ActKind::kRelu, 1000, 4, 0},
                        {ActKind::kSigmoid, 333, 0, 2},
                        {ActKind::kTanh, 2, 3, 0},
                        {ActKind::kMaxout, 100, 0, 1},
                        {ActKind::kLeakyRelu, 0, 2, 0}};
  LocalCommunicator alone;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(Name(c.act)) + " on " + std::to_string(c.samples) + " samples");
    ModelSpec spec;
    spec.input_dim = 3;
    spec.hidden = {9, 5};
    spec.activation = c.act;
    spec.sigmoid_k = 3.0f;
    if (c.classes > 0) {
      spec.output_dim = c.classes, spec.output = OutputKind::kSoftmax,
      spec.loss = LossKind::kCrossEntropy;
    } else {
      spec.output_dim = c.targets, spec.output = OutputKind::kIdentity, spec.loss = LossKind::kMse;
    }
    spec.init = InitKind::kNormal;  // biases N(0,1): some ReLUs die, some sigmoids saturate
    std::vector<float> params(ParamLayout(spec).size());
    InitializeParams(spec, 4, params.data());
    const Dataset d = Samples(c.samples, 3, c.classes, c.targets);
    const InputTransform t{{0.5f, -0.25f, 0.0f}, {2.0f, 1.0f, 0.5f}};
    // Chunks of 7 rows: the ranks cut their slices into chunks at different samples.
    const InspectionReport sharded = InspectSharded(World(), spec, params, t, d, 7);
    const InspectionReport one = InspectSharded(alone, spec, params, t, d, 64);
    ExpectSameReport(sharded, one);
  }
}

}  // namespace
}  // namespace dpmlp
