// Built-in synthetic data sets: small, exactly reproducible problems for demonstrations and tests.
#include <charconv>
#include <cmath>

#include "core/dataset.h"
#include "core/error.h"
#include "core/rng.h"

namespace dpmlp {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Streams of RngPurpose::kSynthetic, one per generator, so sets never share random numbers.
enum SyntheticStream : uint64_t { kSinStream = 0, kSurfaceStream = 1 };

constexpr size_t kSinTrain = 1000;
constexpr size_t kSinTest = 500;
constexpr size_t kSurfaceTrain = 4000;
constexpr size_t kSurfaceGrid = 40;        // test set: kSurfaceGrid x kSurfaceGrid points
constexpr double kSurfaceHalfWidth = 3.0;  // the square [-3, 3]^2
constexpr int kMaxParityBits = 20;

Dataset EmptyRegression(const std::string& source, size_t input_dim, size_t n) {
  Dataset d;
  d.source = source;
  d.size = n;
  d.input_dim = input_dim;
  d.values.resize(n * input_dim);
  d.target_dim = 1;
  d.targets.resize(n);
  return d;
}

// y = sin x. Train: 1000 points x = -pi + 2 pi u, u uniform from HashKey(seed, kSynthetic, 0, i).
// Test: 500 evenly spaced points covering [-pi, pi] including both ends.
DataSplit MakeSin(uint64_t seed) {
  DataSplit s{EmptyRegression("sin (train)", 1, kSinTrain),
              EmptyRegression("sin (test)", 1, kSinTest)};
  for (size_t i = 0; i < kSinTrain; ++i) {
    const double u = UniformFromHash(HashKey(seed, RngPurpose::kSynthetic, kSinStream, i));
    const double x = -kPi + 2 * kPi * u;
    s.train.values[i] = static_cast<float>(x);
    s.train.targets[i] = static_cast<float>(std::sin(x));
  }
  for (size_t k = 0; k < kSinTest; ++k) {
    const double x = -kPi + 2 * kPi * static_cast<double>(k) / (kSinTest - 1);
    s.test.values[k] = static_cast<float>(x);
    s.test.targets[k] = static_cast<float>(std::sin(x));
  }
  return s;
}

// z = sin(x + 0.1 y^2) on the square [-3, 3]^2; features (x, y), target z.
// Train: 4000 uniform random points, x and y from HashKey(seed, kSynthetic, 1, i, 0 or 1).
// Test: the 40 x 40 grid with both ends included, row-major in y then x.
DataSplit MakeSurface(uint64_t seed) {
  DataSplit s{EmptyRegression("surface (train)", 2, kSurfaceTrain),
              EmptyRegression("surface (test)", 2, kSurfaceGrid * kSurfaceGrid)};
  const double a = kSurfaceHalfWidth;
  for (size_t i = 0; i < kSurfaceTrain; ++i) {
    const double x =
        -a + 2 * a * UniformFromHash(HashKey(seed, RngPurpose::kSynthetic, kSurfaceStream, i, 0));
    const double y =
        -a + 2 * a * UniformFromHash(HashKey(seed, RngPurpose::kSynthetic, kSurfaceStream, i, 1));
    s.train.values[2 * i] = static_cast<float>(x);
    s.train.values[2 * i + 1] = static_cast<float>(y);
    s.train.targets[i] = static_cast<float>(SurfaceZ(x, y));
  }
  for (size_t r = 0; r < kSurfaceGrid; ++r) {
    for (size_t c = 0; c < kSurfaceGrid; ++c) {
      const size_t i = r * kSurfaceGrid + c;
      const double x = -a + 2 * a * static_cast<double>(c) / (kSurfaceGrid - 1);
      const double y = -a + 2 * a * static_cast<double>(r) / (kSurfaceGrid - 1);
      s.test.values[2 * i] = static_cast<float>(x);
      s.test.values[2 * i + 1] = static_cast<float>(y);
      s.test.targets[i] = static_cast<float>(SurfaceZ(x, y));
    }
  }
  return s;
}

// All 2^n patterns p of n bits as 0/1 features (feature j = bit n-1-j of p, so row p reads as p
// in binary), label = XOR of the bits. Train and test are both the full truth table: the set
// demonstrates representational capacity, not generalisation. Does not depend on the seed.
DataSplit MakeParity(int n) {
  Dataset d;
  d.source = "parity:" + std::to_string(n);
  d.size = size_t{1} << n;
  d.input_dim = static_cast<size_t>(n);
  d.num_classes = 2;
  d.values.resize(d.size * d.input_dim);
  d.labels.resize(d.size);
  for (size_t p = 0; p < d.size; ++p) {
    int ones = 0;
    for (int j = 0; j < n; ++j) {
      const int bit = static_cast<int>((p >> (n - 1 - j)) & 1);
      d.values[p * d.input_dim + j] = static_cast<float>(bit);
      ones += bit;
    }
    d.labels[p] = ones & 1;
  }
  return DataSplit{d, d};
}

}  // namespace

double SurfaceZ(double x, double y) { return std::sin(x + 0.1 * y * y); }

DataSplit MakeSynthetic(const std::string& name, uint64_t seed) {
  if (name == "sin") return MakeSin(seed);
  if (name == "surface") return MakeSurface(seed);
  const std::string kParity = "parity:";
  if (name.compare(0, kParity.size(), kParity) == 0) {
    const char* first = name.data() + kParity.size();
    const char* last = name.data() + name.size();
    int n = 0;
    const auto [end, ec] = std::from_chars(first, last, n);
    if (first == last || ec != std::errc() || end != last || n < 1 || n > kMaxParityBits) {
      throw UsageError(name + ": the bit count N of parity:N must be an integer in [1, " +
                       std::to_string(kMaxParityBits) + "]");
    }
    return MakeParity(n);
  }
  // Every name --dataset accepts; the others (IDX, CSV and .npy files) never reach this point.
  throw UsageError(name +
                   ": unknown data set (valid: fashion-mnist, mnist, csv, npy, sin, surface, "
                   "parity:N with 1 <= N <= " +
                   std::to_string(kMaxParityBits) + ")");
}

}  // namespace dpmlp
