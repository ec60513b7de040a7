#include "launcher/plot_series.h"

#include <algorithm>
#include <cmath>

namespace dpmlp {

double EpochOfRow(const MetricsTable& m, size_t row) {
  const int epoch = m.column("epoch");
  const double v = epoch >= 0 ? m.rows[row][epoch] : NAN;
  return std::isnan(v) ? static_cast<double>(row + 1) : v;
}

BestEpoch FindBestEpoch(const MetricsTable& m) {
  BestEpoch best;
  for (const char* key : {"val_loss", "test_loss"}) {
    const int c = m.column(key);
    if (c < 0) continue;
    for (size_t i = 0; i < m.rows.size(); ++i) {
      const double v = m.rows[i][c];
      if (!std::isfinite(v) || (best.found && v >= best.loss)) continue;
      best.found = true, best.row = i, best.key = key, best.loss = v;
    }
    if (best.found) break;
  }
  if (best.found) best.epoch = EpochOfRow(m, best.row);
  return best;
}

std::vector<double> Residuals(const std::vector<double>& truth, const std::vector<float>& fit) {
  std::vector<double> r(std::min(truth.size(), fit.size()));
  for (size_t i = 0; i < r.size(); ++i) r[i] = truth[i] - static_cast<double>(fit[i]);
  return r;
}

ValueRange RangeOf(const std::vector<double>& values) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) return {};
  if (lo == hi) return {lo - 0.5, hi + 0.5};
  return {lo, hi};
}

ValueRange SymmetricRange(const std::vector<double>& values) {
  double m = 0;
  for (double v : values)
    if (std::isfinite(v)) m = std::max(m, std::fabs(v));
  if (m == 0) m = 1e-12;
  return {-m, m};
}

int LabelStep(size_t rows, double band_px, double min_px) {
  if (rows == 0 || !(band_px > 0)) return 1;
  const double per_row = band_px / static_cast<double>(rows);
  return std::max(1, static_cast<int>(std::ceil(min_px / per_row - 1e-9)));
}

}  // namespace dpmlp
