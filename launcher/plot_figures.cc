#include "launcher/plot_figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/atomic_file.h"
#include "core/batch.h"
#include "core/error.h"
#include "core/network.h"

namespace dpmlp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string Architecture(const ModelSpec& s) {
  std::string a = std::to_string(s.input_dim);
  for (int h : s.hidden) a += "-" + std::to_string(h);
  a += "-" + std::to_string(s.output_dim) + " " + Name(s.activation);
  if (s.activation == ActKind::kSigmoid && s.sigmoid_k != 1.0f)
    a += " (k=" + Num(s.sigmoid_k) + ")";
  return a;
}

std::string Terminal(const Figure& f, PlotSize size) {
  return "set terminal pngcairo size " + std::to_string(size.width) + "," +
         std::to_string(size.height) + " noenhanced font 'sans,10'\nset output " +
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

// Output 0 of the model (with `params`) at each raw input row of `raw` (n x input_dim).
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
  std::vector<float> x(static_cast<size_t>(chunk) * grid.input_dim), out(grid.size);
  std::vector<size_t> idx(chunk);
  for (size_t at = 0; at < grid.size; at += chunk) {
    const int rows = static_cast<int>(std::min<size_t>(chunk, grid.size - at));
    for (int r = 0; r < rows; ++r) idx[r] = at + r;
    GatherInputs(grid, idx.data(), rows, m.transform, AugmentOptions(), 0, x.data());
    net.Forward(x.data(), rows);
    for (int r = 0; r < rows; ++r)
      out[at + r] = net.output()[static_cast<size_t>(r) * m.spec.output_dim];
  }
  return out;
}

// The range of feature j over the data, widened by `pad` of its width on each side.
void FeatureRange(const Dataset& d, size_t j, double pad, double* lo, double* hi) {
  *lo = INFINITY, *hi = -INFINITY;
  for (size_t i = 0; i < d.size; ++i) {
    const double v = d.feature(i, j);
    *lo = std::min(*lo, v), *hi = std::max(*hi, v);
  }
  const double w = *hi > *lo ? *hi - *lo : 1.0;
  *lo -= pad * w, *hi += pad * w;
}

// The value plotted for sample i: its first regression target, or its class label.
double Target0(const Dataset& d, size_t i) {
  return d.is_classification() ? d.labels[i] : d.targets[i * d.target_dim];
}

// 1, 2 or 5 times a power of ten, at least v.
double NiceStep(double v) {
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

}  // namespace

Figure WriteCurvesFigure(const MetricsTable& m, const std::string& png, PlotSize size) {
  Figure f;
  f.png = png;
  const int epoch = m.column("epoch");
  // The series drawn, when the file has them; accuracy for classification, else MSE.
  std::vector<std::string> loss_keys, quality_keys;
  for (const char* k : {"train_loss", "test_loss", "val_loss", "avg_test_loss", "avg_val_loss"})
    if (m.column(k) >= 0) loss_keys.push_back(k);
  for (const char* k :
       {"train_accuracy", "test_accuracy", "val_accuracy", "avg_test_accuracy", "avg_val_accuracy"})
    if (m.column(k) >= 0) quality_keys.push_back(k);
  const bool accuracy = !quality_keys.empty();
  if (!accuracy)
    for (const char* k : {"test_mse", "val_mse"})
      if (m.column(k) >= 0) quality_keys.push_back(k);
  if (loss_keys.empty() && quality_keys.empty())
    throw UsageError(m.source + ": no train_loss, test_loss, *_accuracy or *_mse values to plot");

  std::string data = "# epoch";
  for (const auto& k : loss_keys) data += " " + k;
  for (const auto& k : quality_keys) data += " " + k + (accuracy ? "_percent" : "");
  data += "\n";
  // Whether a panel's values span enough to need a log scale.
  auto spread = [&](const std::vector<std::string>& keys) {
    double lo = INFINITY, hi = 0;
    for (const auto& row : m.rows)
      for (const auto& k : keys) {
        const double v = row[m.column(k)];
        if (std::isnan(v)) continue;
        if (v <= 0) return 1.0;
        lo = std::min(lo, v), hi = std::max(hi, v);
      }
    return hi > 0 && std::isfinite(lo) ? hi / lo : 1.0;
  };
  for (size_t i = 0; i < m.rows.size(); ++i) {
    const auto& row = m.rows[i];
    data += Num(epoch >= 0 && !std::isnan(row[epoch]) ? row[epoch] : double(i + 1));
    for (const auto& k : loss_keys) data += " " + Num(row[m.column(k)]);
    for (const auto& k : quality_keys) data += " " + Num(row[m.column(k)] * (accuracy ? 100 : 1));
    data += "\n";
  }
  WriteData(&f, "metrics.dat", data);

  const std::string dat = GnuplotName(f.data_files[0]);
  auto panel = [&](const std::vector<std::string>& keys, int first_column,
                   const std::string& ylabel) {
    std::string s = "set ylabel '" + ylabel + "'\n";
    s += spread(keys) > 30 ? "set logscale y\n" : "unset logscale y\n";
    s += "plot ";
    for (size_t i = 0; i < keys.size(); ++i)
      s += (i ? ", \\\n     " : "") + dat + " using 1:" + std::to_string(first_column + i) +
           " with linespoints pt 7 ps 0.6 lw 2 title '" + keys[i] + "'";
    return s + "\n";
  };
  std::string gp = Terminal(f, size);
  gp += "set multiplot layout 1," +
        std::to_string(loss_keys.empty() || quality_keys.empty() ? 1 : 2) + " title " +
        GnuplotQuote("training curves: " + m.source.substr(m.source.rfind('/') + 1)) + "\n";
  // Whole epochs on the x axis, about eight ticks.
  double last_epoch = 1;
  for (size_t i = 0; i < m.rows.size(); ++i)
    last_epoch = std::max(
        last_epoch, epoch >= 0 && !std::isnan(m.rows[i][epoch]) ? m.rows[i][epoch] : double(i + 1));
  gp += "set xtics " + Num(std::max(1.0, NiceStep(last_epoch / 8))) + "\n";
  gp += "set xlabel 'epoch'\nset grid\nset key top right\n";
  if (!loss_keys.empty()) gp += panel(loss_keys, 2, "loss (mean per sample)");
  if (!quality_keys.empty()) {
    gp += accuracy ? "set key bottom right\n" : "";
    gp += panel(quality_keys, 2 + static_cast<int>(loss_keys.size()),
                accuracy ? "accuracy (%)" : "MSE");
  }
  gp += "unset multiplot\n";
  WriteScript(&f, gp);
  return f;
}

Figure WriteFitFigure(const ModelData& model, const Dataset& data, const InspectionReport& report,
                      const std::string& png, PlotSize size) {
  if (model.spec.input_dim != 1) throw InternalError("WriteFitFigure: not a 1-D input model");
  Figure f;
  f.png = png;
  double xlo, xhi;
  FeatureRange(data, 0, 0.05, &xlo, &xhi);

  // The data (at most 5000 points, evenly strided) and the fitted curve on 600 points.
  const size_t stride = std::max<size_t>(1, data.size / 5000);
  double ylo = INFINITY, yhi = -INFINITY;
  std::string text = "# x target\n";
  for (size_t i = 0; i < data.size; i += stride) {
    const double y = Target0(data, i);
    ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    text += Num(data.feature(i, 0)) + " " + Num(y) + "\n";
  }
  WriteData(&f, "data.dat", text);
  const int points = 600;
  std::vector<float> grid(points);
  for (int i = 0; i < points; ++i)
    grid[i] = static_cast<float>(xlo + (xhi - xlo) * i / (points - 1));
  const std::vector<float> fit = PredictOutput0(model, model.params, grid);
  text = "# x output0\n";
  for (int i = 0; i < points; ++i) {
    if (std::isfinite(fit[i]))
      ylo = std::min<double>(ylo, fit[i]), yhi = std::max<double>(yhi, fit[i]);
    text += Num(grid[i]) + " " + Num(fit[i]) + "\n";
  }
  WriteData(&f, "curve.dat", text);

  // First-layer neurons sorted by centre (those without one last), one level each beneath the data.
  std::vector<const NeuronReport*> first;
  for (const NeuronReport& n : report.neurons)
    if (n.layer == 0) first.push_back(&n);
  std::stable_sort(first.begin(), first.end(), [](const NeuronReport* a, const NeuronReport* b) {
    const double ca = a->interval.centre, cb = b->interval.centre;
    return !std::isnan(ca) && (std::isnan(cb) || ca < cb);
  });
  const double h = yhi > ylo ? yhi - ylo : 1.0, gap = 0.08 * h, band = 0.6 * h;
  const double n = std::max<size_t>(1, first.size());
  double cbmax = 0;
  text =
      "# unit centre lo hi length in_region delta_loss level x_from x_to (clipped to the plot)\n";
  for (size_t i = 0; i < first.size(); ++i) {
    const NeuronReport& r = *first[i];
    const InputInterval& iv = r.interval;
    double from = std::max(iv.lo, xlo), to = std::min(iv.hi, xhi);
    if (!(from < to)) from = to = kNaN;  // empty, or outside the plotted range
    cbmax = std::max(cbmax, r.delta_loss);
    text += std::to_string(r.unit) + " " + Num(iv.centre) + " " + Num(iv.lo) + " " + Num(iv.hi) +
            " " + Num(iv.length()) + " " + Num(r.in_region) + " " + Num(r.delta_loss) + " " +
            Num(ylo - gap - band * (i + 0.5) / n) + " " + Num(from) + " " + Num(to) + "\n";
  }
  WriteData(&f, "intervals.dat", text);

  const std::string dat = GnuplotName(f.data_files[0]), curve = GnuplotName(f.data_files[1]),
                    ivs = GnuplotName(f.data_files[2]);
  std::string gp = Terminal(f, size);
  gp += "set title " +
        GnuplotQuote(Architecture(model.spec) + " on " + data.source +
                     ": fit and each neuron's effective interval (" +
                     EffectiveRegionText(model.spec.activation) + "), sorted by centre") +
        "\n";
  gp += "set xlabel 'x (raw input)'\nset ylabel 'output 0'\nset grid\nset key top left opaque\n";
  gp += "set xrange [" + Num(xlo) + ":" + Num(xhi) + "]\n";
  gp += "set yrange [" + Num(ylo - gap - band - 0.03 * h) + ":" + Num(yhi + 0.1 * h) + "]\n";
  // Ticks only where the data are; the band beneath holds one line per neuron.
  const double step = NiceStep(h / 5);
  gp += "set ytics " + Num(std::ceil(ylo / step) * step) + "," + Num(step) + "," + Num(yhi) + "\n";
  gp += "set label 1 " +
        GnuplotQuote(std::to_string(first.size()) + " first-layer neurons, one line each") +
        " at graph 0.01, first " + Num(ylo - 0.5 * gap) + " front\n";
  // A few neurons usually matter far more than the rest: a log colour scale over four decades,
  // with no effect or a harmful one (delta <= 0) at its light end.
  const double top = cbmax > 0 ? cbmax : 1.0;
  const std::string floor = Num(top * 1e-4), colour = "($7 > " + floor + " ? $7 : " + floor + ")";
  gp += "set palette defined (0 '#c6dbef', 1 '#08306b')\nset logscale cb\n";
  gp += "set cbrange [" + floor + ":" + Num(top) + "]\n";
  gp += "set cblabel 'loss increase when the neuron is ablated (log scale)'\n";
  gp += "set format cb '%g'\n";
  gp += "plot " + dat + " using 1:2 with points pt 7 ps 0.35 lc rgb '#999999' title 'data', \\\n";
  gp += "     " + curve + " using 1:2 with lines lw 2.5 lc rgb '#d62728' title 'fit', \\\n";
  gp += "     " + ivs + " using 9:8:($10-$9):(0):" + colour +
        " with vectors nohead lw 2 lc palette title 'effective "
        "intervals', \\\n";
  gp += "     " + ivs + " using 2:8:" + colour + " with points pt 7 ps 0.5 lc palette notitle\n";
  WriteScript(&f, gp);
  return f;
}

Figure WriteSurfaceFigure(const ModelData& model, const Dataset& data, const NeuronId* ablate,
                          const std::string& png, PlotSize size) {
  if (model.spec.input_dim != 2) throw InternalError("WriteSurfaceFigure: not a 2-D input model");
  Figure f;
  f.png = png;
  double xlo, xhi, ylo, yhi;
  FeatureRange(data, 0, 0.0, &xlo, &xhi);
  FeatureRange(data, 1, 0.0, &ylo, &yhi);
  const int g = 121;
  std::vector<float> raw(static_cast<size_t>(g) * g * 2);
  for (int iy = 0; iy < g; ++iy)
    for (int ix = 0; ix < g; ++ix) {
      raw[2 * (static_cast<size_t>(iy) * g + ix)] =
          static_cast<float>(xlo + (xhi - xlo) * ix / (g - 1));
      raw[2 * (static_cast<size_t>(iy) * g + ix) + 1] =
          static_cast<float>(ylo + (yhi - ylo) * iy / (g - 1));
    }
  const std::vector<float> z = PredictOutput0(model, model.params, raw);
  std::vector<float> zab;
  double dmax = 0;
  if (ablate) {
    std::vector<float> p = model.params;
    ZeroOutgoingWeights(model.spec, ablate->layer, ablate->unit, &p);
    zab = PredictOutput0(model, p, raw);
    for (size_t i = 0; i < z.size(); ++i) dmax = std::max(dmax, std::fabs(double(zab[i]) - z[i]));
  }
  std::string text = ablate ? "# x y output0 output0_ablated difference\n" : "# x y output0\n";
  for (int iy = 0; iy < g; ++iy) {
    for (int ix = 0; ix < g; ++ix) {
      const size_t i = static_cast<size_t>(iy) * g + ix;
      text += Num(raw[2 * i]) + " " + Num(raw[2 * i + 1]) + " " + Num(z[i]);
      if (ablate) text += " " + Num(zab[i]) + " " + Num(double(zab[i]) - z[i]);
      text += "\n";
    }
    text += "\n";
  }
  WriteData(&f, "grid.dat", text);

  const std::string dat = GnuplotName(f.data_files[0]);
  std::string gp = Terminal(f, size);
  gp += std::string(ablate ? "set multiplot layout 1,2\n" : "");
  gp += "set xlabel 'x1'\nset ylabel 'x2'\nset size ratio -1\nset tics out\n";
  gp += "set xrange [" + Num(xlo) + ":" + Num(xhi) + "]\nset yrange [" + Num(ylo) + ":" + Num(yhi) +
        "]\n";
  gp += "set title " +
        GnuplotQuote(Architecture(model.spec) + ": output 0 over the data's range (" + data.source +
                     ")") +
        "\n";
  gp += "set palette defined (0 '#313695', 0.5 '#ffffbf', 1 '#a50026')\n";
  gp += "plot " + dat + " using 1:2:3 with image notitle\n";
  if (ablate) {
    gp += "set title " +
          GnuplotQuote("change of output 0 when neuron " + NeuronName(ablate->layer, ablate->unit) +
                       " is ablated (outgoing weights zeroed)") +
          "\n";
    gp += "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n";
    const double m = dmax > 0 ? dmax : 1e-12;
    gp += "set cbrange [" + Num(-m) + ":" + Num(m) + "]\n";
    gp += "plot " + dat + " using 1:2:5 with image notitle\nunset multiplot\n";
  }
  WriteScript(&f, gp);
  return f;
}

PlotSize DefaultCurvesSize() { return {1200, 500}; }
PlotSize DefaultFitSize() { return {1000, 750}; }
PlotSize DefaultSurfaceSize(bool with_ablation) {
  return with_ablation ? PlotSize{1400, 650} : PlotSize{750, 650};
}

}  // namespace dpmlp
