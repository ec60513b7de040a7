// Pure computations behind the figures: which epoch was best, residuals, colour ranges and how
// many row labels fit. No files, no gnuplot: tests/launcher checks them directly.
#pragma once

#include <string>
#include <vector>

#include "launcher/plot_metrics.h"

namespace dpmlp {

// The epoch of row `row`: its "epoch" value, or row + 1 when the file has none.
double EpochOfRow(const MetricsTable& m, size_t row);

// The best epoch of a run: the row with the lowest val_loss when any row has one, else the lowest
// test_loss; the earliest such row on a tie. found is false when neither key has a value.
struct BestEpoch {
  bool found = false;
  size_t row = 0;
  double epoch = 0;
  std::string key;  // "val_loss" or "test_loss"
  double loss = 0;
};
BestEpoch FindBestEpoch(const MetricsTable& m);

// truth[i] - fit[i], in double.
std::vector<double> Residuals(const std::vector<double>& truth, const std::vector<float>& fit);

// [lo, hi] of the finite values (NaN and inf skipped); a single value v gives [v - 0.5, v + 0.5]
// and no finite value [0, 1], so the range is never empty.
struct ValueRange {
  double lo = 0, hi = 1;
};
ValueRange RangeOf(const std::vector<double>& values);
// [-m, m] with m the largest finite |value|; [-1e-12, 1e-12] when every value is 0.
ValueRange SymmetricRange(const std::vector<double>& values);

// Label every step-th of `rows` rows so that labels are at least `min_px` pixels apart in a band
// `band_px` high: 1 when all fit, and at least 1.
int LabelStep(size_t rows, double band_px, double min_px);

}  // namespace dpmlp
