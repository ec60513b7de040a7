// Helpers shared by the figure writers (plot_curves.cc, plot_figures.cc, plot_surface.cc): number
// formatting, the gnuplot preamble, companion files and the model's output on a grid.
#pragma once

#include <string>
#include <vector>

#include "core/dataset.h"
#include "launcher/plot_gnuplot.h"
#include "proto/model_codec.h"

namespace dpmlp {
namespace plotting {

// A number as gnuplot and the data files read it ("%.9g"), "NaN" for NaN.
std::string Num(double v);
// "1-60-1 sigmoid (k=10)": the layer widths and the hidden activation.
std::string Architecture(const ModelSpec& s);
// The pngcairo terminal of `f`'s size and its output file.
std::string Terminal(const Figure& f);
// Writes `text` to the figure's companion file `suffix` and records it in f->data_files.
void WriteData(Figure* f, const std::string& suffix, const std::string& text);
// Writes the figure's script (NAME.gp) with a header saying how to redraw it.
void WriteScript(Figure* f, const std::string& text);
// Output 0 of the model (with `params`) at each raw input row of `raw` (n x input_dim).
std::vector<float> PredictOutput0(const ModelData& m, const std::vector<float>& params,
                                  const std::vector<float>& raw);
// The range of feature j over the data, widened by `pad` of its width on each side.
void FeatureRange(const Dataset& d, size_t j, double pad, double* lo, double* hi);
// The value plotted for sample i: its first regression target, or its class label.
double Target0(const Dataset& d, size_t i);
// 1, 2 or 5 times a power of ten, at least v.
double NiceStep(double v);

}  // namespace plotting
}  // namespace dpmlp
