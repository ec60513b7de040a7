// The 1-D fit figure: the data and the fitted curve above, and each first-layer neuron's effective
// interval beneath, one labelled row per neuron. The curves are in plot_curves.cc, the 2-D
// heat maps in plot_surface.cc.
#include "launcher/plot_figures.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "launcher/plot_common.h"
#include "launcher/plot_series.h"

namespace dpmlp {

using plotting::Num;
using plotting::WriteData;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Pixel layout of the fit figure, top to bottom: title, fit panel, gap, interval rows, x label.
constexpr int kTitlePx = 40, kFitPx = 380, kGapPx = 65, kBottomPx = 55, kRowPx = 13;
constexpr int kMaxLabelledRows = 100;  // more neurons: the default size labels every k-th row
constexpr int kLeftPx = 120, kRightPx = 150;

// The data (at most 5000 points, evenly strided) and the fitted curve on 600 points; widens
// [ylo, yhi] to hold both.
void WriteFitData(const ModelData& model, const Dataset& data, double xlo, double xhi, Figure* f,
                  double* ylo, double* yhi) {
  const size_t stride = std::max<size_t>(1, data.size / 5000);
  std::string text = "# x target\n";
  for (size_t i = 0; i < data.size; i += stride) {
    const double y = plotting::Target0(data, i);
    *ylo = std::min(*ylo, y), *yhi = std::max(*yhi, y);
    text += Num(data.feature(i, 0)) + " " + Num(y) + "\n";
  }
  WriteData(f, "data.dat", text);
  const int points = 600;
  std::vector<float> grid(points);
  for (int i = 0; i < points; ++i)
    grid[i] = static_cast<float>(xlo + (xhi - xlo) * i / (points - 1));
  const std::vector<float> fit = plotting::PredictOutput0(model, model.params, grid);
  text = "# x output0\n";
  for (int i = 0; i < points; ++i) {
    if (std::isfinite(fit[i]))
      *ylo = std::min<double>(*ylo, fit[i]), *yhi = std::max<double>(*yhi, fit[i]);
    text += Num(grid[i]) + " " + Num(fit[i]) + "\n";
  }
  WriteData(f, "curve.dat", text);
}

// First-layer neurons sorted by centre (those without one last), one row each; returns the
// largest d_loss.
double WriteIntervalsData(const InspectionReport& report, double xlo, double xhi, Figure* f,
                          size_t* rows) {
  std::vector<const NeuronReport*> first;
  for (const NeuronReport& n : report.neurons)
    if (n.layer == 0) first.push_back(&n);
  std::stable_sort(first.begin(), first.end(), [](const NeuronReport* a, const NeuronReport* b) {
    const double ca = a->interval.centre, cb = b->interval.centre;
    return !std::isnan(ca) && (std::isnan(cb) || ca < cb);
  });
  double cbmax = 0;
  std::string text =
      "# unit centre lo hi length in_region delta_loss row x_from x_to neuron "
      "(row 1 = leftmost centre; x_from, x_to: the interval clipped to the plot)\n";
  for (size_t i = 0; i < first.size(); ++i) {
    const NeuronReport& r = *first[i];
    const InputInterval& iv = r.interval;
    double from = std::max(iv.lo, xlo), to = std::min(iv.hi, xhi);
    if (!(from < to)) from = to = kNaN;  // empty, or outside the plotted range
    cbmax = std::max(cbmax, r.delta_loss);
    text += std::to_string(r.unit) + " " + Num(iv.centre) + " " + Num(iv.lo) + " " + Num(iv.hi) +
            " " + Num(iv.length()) + " " + Num(r.in_region) + " " + Num(r.delta_loss) + " " +
            std::to_string(i + 1) + " " + Num(from) + " " + Num(to) + " " +
            NeuronName(r.layer, r.unit) + "\n";
  }
  WriteData(f, "intervals.dat", text);
  *rows = first.size();
  return cbmax;
}

// "set lmargin at screen ..." and the other three, for a panel from top_px to bottom_px.
std::string Margins(const Figure& f, double top_px, double bottom_px) {
  const double w = f.size.width, h = f.size.height;
  return "set lmargin at screen " + Num(std::min(0.3, kLeftPx / w)) + "\nset rmargin at screen " +
         Num(1 - std::min(0.3, kRightPx / w)) + "\nset tmargin at screen " + Num(1 - top_px / h) +
         "\nset bmargin at screen " + Num(1 - bottom_px / h) + "\n";
}

}  // namespace

Figure WriteFitFigure(const ModelData& model, const Dataset& data, const InspectionReport& report,
                      const std::string& png, PlotSize size) {
  if (model.spec.input_dim != 1) throw InternalError("WriteFitFigure: not a 1-D input model");
  Figure f;
  f.png = png;
  const int units = model.spec.hidden.empty() ? 0 : model.spec.hidden[0];
  f.size = size.width > 0 ? size : DefaultFitSize(units);
  double xlo, xhi, ylo = INFINITY, yhi = -INFINITY;
  plotting::FeatureRange(data, 0, 0.05, &xlo, &xhi);
  WriteFitData(model, data, xlo, xhi, &f, &ylo, &yhi);
  size_t rows = 0;
  const double cbmax = WriteIntervalsData(report, xlo, xhi, &f, &rows);

  const std::string dat = GnuplotName(f.data_files[0]), curve = GnuplotName(f.data_files[1]),
                    ivs = GnuplotName(f.data_files[2]);
  const double h = yhi > ylo ? yhi - ylo : 1.0, H = f.size.height;
  // The fit panel keeps at most 45% of the height when rows are wanted.
  const double fit_px = rows ? std::min<double>(kFitPx, 0.45 * H) : H - kTitlePx - kBottomPx;
  const double band_top = kTitlePx + fit_px + kGapPx, band_px = H - band_top - kBottomPx;
  std::string gp = plotting::Terminal(f);
  gp += "set multiplot title " +
        GnuplotQuote(plotting::Architecture(model.spec) + " on " + data.source +
                     ": the fit, and each first-layer neuron's effective interval (" +
                     EffectiveRegionText(model.spec.activation) + ")") +
        "\n";
  gp += Margins(f, kTitlePx, kTitlePx + fit_px);
  gp += "set xrange [" + Num(xlo) + ":" + Num(xhi) + "]\n";
  gp += "set yrange [" + Num(ylo - 0.08 * h) + ":" + Num(yhi + 0.15 * h) + "]\n";
  gp += std::string(rows ? "" : "set xlabel 'x (raw input)'\n") +
        "set ylabel 'output 0'\nset grid\nset key top left opaque\n";
  // The data beneath as dots larger than the fit line is wide, so both stay visible.
  gp += "plot " + dat + " using 1:2 with points pt 7 ps 0.7 lc rgb '#6baed6' title " +
        GnuplotQuote("data (" + data.source + ")") + ", \\\n";
  gp += "     " + curve + " using 1:2 with lines lw 1.5 lc rgb '#c00000' title 'fit (output 0)'\n";
  if (rows) {
    // One row per neuron, labelled "L:U  c=centre"; with many neurons every step-th row.
    const int step = LabelStep(rows, band_px, 11);
    gp += Margins(f, band_top, band_top + band_px);
    gp += "unset key\nunset grid\nset grid xtics\nset xlabel 'x (raw input)'\nunset ylabel\n";
    gp += "set yrange [" + Num(rows + 0.5) + ":0.5]\nset ytics scale 0 font ',8'\n";
    gp += "set title " +
          GnuplotQuote(std::to_string(rows) +
                       " first-layer neurons, sorted by centre c = -b/w: effective interval "
                       "(line) and centre (dot)" +
                       (step > 1 ? ", every " + std::to_string(step) + "th labelled" : "")) +
          " font ',9'\n";
    // A few neurons usually matter far more than the rest: a log colour scale over four decades,
    // with no effect or a harmful one (delta <= 0) at its light end.
    const double top = cbmax > 0 ? cbmax : 1.0;
    const std::string floor = Num(top * 1e-4), colour = "($7 > " + floor + " ? $7 : " + floor + ")";
    gp += "set palette defined (0 '#c6dbef', 1 '#08306b')\nset logscale cb\n";
    gp += "set cbrange [" + floor + ":" + Num(top) + "]\nset format cb '%g'\n";
    gp += "set cblabel 'd_loss: loss increase when ablated (log)'\n";
    const std::string label = "(int($8 - 1) % " + std::to_string(step) +
                              " == 0 ? sprintf('%s  c=%.2f', strcol(11), $2) : '')";
    gp += "plot " + ivs + " using 9:8:($10-$9):(0):" + colour + ":ytic" + label +
          " with vectors nohead lw 2.5 lc palette, \\\n";
    gp += "     " + ivs + " using 2:8:" + colour + " with points pt 7 ps 0.6 lc palette\n";
  }
  gp += "unset multiplot\n";
  plotting::WriteScript(&f, gp);
  return f;
}

PlotSize DefaultFitSize(int first_layer_neurons) {
  const int rows = std::min(first_layer_neurons, kMaxLabelledRows);
  if (rows == 0) return {1000, 600};
  return {1000, kTitlePx + kFitPx + kGapPx + kBottomPx + std::max(20, rows) * kRowPx};
}

}  // namespace dpmlp
