#include "launcher/plot_common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/atomic_file.h"
#include "core/batch.h"
#include "core/network.h"

namespace dpmlp {
namespace plotting {

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string Architecture(const ModelSpec& s) {
  std::string a = s.Widths() + " " + Name(s.activation);
  if (s.activation == ActKind::kSigmoid && s.sigmoid_k != 1.0f)
    a += " (k=" + Num(s.sigmoid_k) + ")";
  return a;
}

std::string Terminal(const Figure& f) {
  return "set terminal pngcairo size " + std::to_string(f.size.width) + "," +
         std::to_string(f.size.height) + " noenhanced font 'sans,10'\nset output " +
         GnuplotName(f.png) + "\n";
}

void WriteData(Figure* f, const std::string& suffix, const std::string& text) {
  const std::string path = FigureFile(f->png, suffix);
  WriteFileAtomic(path, text);
  f->data_files.push_back(path);
}

void WriteScript(Figure* f, const std::string& text) {
  f->script = FigureFile(f->png, "gp");
  WriteFileAtomic(f->script, "# drawn by dpmlp; run `gnuplot " +
                                 f->script.substr(f->script.rfind('/') + 1) +
                                 "` in this directory to redraw\n" + text);
}

std::vector<float> PredictOutput0(const ModelData& m, const std::vector<float>& params,
                                  const std::vector<float>& raw) {
  Dataset grid;
  grid.source = "plot grid";
  grid.input_dim = static_cast<size_t>(m.spec.input_dim);
  grid.size = raw.size() / grid.input_dim;
  grid.values = raw;
  const int chunk = 256;
  Network<float> net(m.spec, chunk);
  net.params() = params;
  std::vector<float> out(grid.size);
  BatchReader(grid, m.transform, chunk)
      .ForEach(0, grid.size,
               [&](size_t first, int rows, const float* x, const int32_t*, const float*) {
                 net.Forward(x, rows);
                 for (int r = 0; r < rows; ++r)
                   out[first + r] = net.output()[static_cast<size_t>(r) * m.spec.output_dim];
               });
  return out;
}

void FeatureRange(const Dataset& d, size_t j, double pad, double* lo, double* hi) {
  *lo = INFINITY, *hi = -INFINITY;
  for (size_t i = 0; i < d.size; ++i) {
    const double v = d.feature(i, j);
    *lo = std::min(*lo, v), *hi = std::max(*hi, v);
  }
  const double w = *hi > *lo ? *hi - *lo : 1.0;
  *lo -= pad * w, *hi += pad * w;
}

double Target0(const Dataset& d, size_t i) {
  return d.is_classification() ? d.labels[i] : d.targets[i * d.target_dim];
}

double NiceStep(double v) {
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

}  // namespace plotting
}  // namespace dpmlp
