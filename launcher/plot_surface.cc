// The 2-D figure: heat maps over the data's bounding box of the true function (when the data set
// has one), the model's output 0, their residual, and with --ablate the ablation's change.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "launcher/plot_common.h"
#include "launcher/plot_figures.h"
#include "launcher/plot_series.h"

namespace dpmlp {

using plotting::Num;

namespace {

constexpr int kGrid = 121;  // points per axis

// One heat-map panel of column `column` of `dat`; the title names the quantity (no colour-box
// label, which would run into the next panel's axis label).
std::string MapPanel(const std::string& dat, int column, const std::string& title,
                     const std::string& palette, ValueRange cb) {
  return "set title " + GnuplotQuote(title) + "\nset palette defined " + palette +
         "\nset cbrange [" + Num(cb.lo) + ":" + Num(cb.hi) + "]\nplot " + dat +
         " using 1:2:" + std::to_string(column) + " with image notitle\n";
}

const char* const kValuePalette = "(0 '#313695', 0.5 '#ffffbf', 1 '#a50026')";
const char* const kSignedPalette = "(-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')";

}  // namespace

SurfaceTruth KnownTruth(const std::string& dataset) {
  if (dataset == "surface") return {"the surface set's target", SurfaceZ};
  return {};
}

PlotSize DefaultSurfaceSize(int panels) {
  switch (panels) {
    case 1:
      return {750, 650};
    case 2:
      return {1400, 650};
    case 3:
      return {1800, 620};
    default:
      return {1400, 1250};
  }
}

Figure WriteSurfaceFigure(const ModelData& model, const Dataset& data, const SurfaceTruth& truth,
                          const NeuronId* ablate, const std::string& png, PlotSize size) {
  if (model.spec.input_dim != 2) throw InternalError("WriteSurfaceFigure: not a 2-D input model");
  Figure f;
  f.png = png;
  const int panels = 1 + (truth.z ? 2 : 0) + (ablate ? 1 : 0);
  f.size = size.width > 0 ? size : DefaultSurfaceSize(panels);
  double xlo, xhi, ylo, yhi;
  plotting::FeatureRange(data, 0, 0.0, &xlo, &xhi);
  plotting::FeatureRange(data, 1, 0.0, &ylo, &yhi);
  const size_t n = static_cast<size_t>(kGrid) * kGrid;
  std::vector<float> raw(2 * n);
  for (size_t i = 0; i < n; ++i) {
    raw[2 * i] =
        static_cast<float>(xlo + (xhi - xlo) * static_cast<double>(i % kGrid) / (kGrid - 1));
    raw[2 * i + 1] =
        static_cast<float>(ylo + (yhi - ylo) * static_cast<double>(i / kGrid) / (kGrid - 1));
  }
  const std::vector<float> z = plotting::PredictOutput0(model, model.params, raw);
  std::vector<double> values(z.begin(), z.end()), want, residual, change;
  if (truth.z) {
    want.resize(n);
    for (size_t i = 0; i < n; ++i) want[i] = truth.z(raw[2 * i], raw[2 * i + 1]);
    residual = Residuals(want, z);
    values.insert(values.end(), want.begin(), want.end());
  }
  std::vector<float> zab;
  if (ablate) {
    std::vector<float> p = model.params;
    ZeroOutgoingWeights(model.spec, ablate->layer, ablate->unit, &p);
    zab = plotting::PredictOutput0(model, p, raw);
    change = Residuals(std::vector<double>(zab.begin(), zab.end()), z);
  }
  std::string text = std::string("# x y output0") + (truth.z ? " truth residual" : "") +
                     (ablate ? " output0_ablated difference" : "") + "\n";
  for (size_t i = 0; i < n; ++i) {
    text += Num(raw[2 * i]) + " " + Num(raw[2 * i + 1]) + " " + Num(z[i]);
    if (truth.z) text += " " + Num(want[i]) + " " + Num(residual[i]);
    if (ablate) text += " " + Num(zab[i]) + " " + Num(change[i]);
    text += (i + 1) % kGrid ? "\n" : "\n\n";
  }
  plotting::WriteData(&f, "grid.dat", text);

  const std::string dat = GnuplotName(f.data_files[0]);
  const ValueRange shared = RangeOf(values);  // truth and output on one scale
  std::string gp = plotting::Terminal(f);
  gp += "set multiplot layout " + std::string(panels == 4 ? "2,2" : "1," + std::to_string(panels)) +
        " title " +
        GnuplotQuote(plotting::Architecture(model.spec) + " on " + data.source +
                     ": output 0 over the data's range") +
        "\n";
  gp += "set xlabel 'x1'\nset ylabel 'x2'\nset size ratio -1\nset tics out\n";
  gp += "set xrange [" + Num(xlo) + ":" + Num(xhi) + "]\nset yrange [" + Num(ylo) + ":" + Num(yhi) +
        "]\n";
  if (truth.z) gp += MapPanel(dat, 4, "truth: " + truth.name, kValuePalette, shared);
  gp += MapPanel(dat, 3, truth.z ? "model: output 0 (the truth's colour scale)" : "model: output 0",
                 kValuePalette, shared);
  if (truth.z)
    gp += MapPanel(dat, 5, "residual: truth - output 0 (symmetric scale)", kSignedPalette,
                   SymmetricRange(residual));
  if (ablate)
    gp += MapPanel(dat, truth.z ? 7 : 5,
                   "change of output 0 when neuron " + NeuronName(ablate->layer, ablate->unit) +
                       " is ablated (ablated - intact)",
                   kSignedPalette, SymmetricRange(change));
  gp += "unset multiplot\n";
  plotting::WriteScript(&f, gp);
  return f;
}

}  // namespace dpmlp
