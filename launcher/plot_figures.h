// The figures dpmlp draws. Each Write*Figure writes its data files (whitespace-separated columns,
// NaN for a missing value) and its gnuplot script next to the PNG and returns the Figure;
// DrawFigure (launcher/plot_gnuplot.h) then makes the PNG. Rank 0 only: nothing here is collective.
#pragma once

#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/inspect.h"
#include "launcher/plot_gnuplot.h"
#include "launcher/plot_inputs.h"
#include "launcher/plot_metrics.h"
#include "proto/model_codec.h"

namespace dpmlp {

// Each function writes its figure at `size`, or at its default size when size.width is 0; the
// returned Figure holds the size used.

// Loss curves (train, test, validation), accuracy (or MSE for regression) and the learning rate
// against the epoch, side by side; a dashed line marks the best epoch (lowest val_loss, else
// lowest test_loss). Data: <stem>.metrics.dat, <stem>.best.dat (epoch key loss).
Figure WriteCurvesFigure(const MetricsTable& metrics, const std::string& png, PlotSize size = {});

// 1-D input models: the data and the fitted curve (output 0) above; beneath, one labelled row per
// first-layer neuron with its effective interval, sorted by centre, coloured by the loss
// increase when it is ablated. Data: <stem>.data.dat, <stem>.curve.dat, <stem>.intervals.dat.
Figure WriteFitFigure(const ModelData& model, const Dataset& data, const InspectionReport& report,
                      const std::string& png, PlotSize size = {});
// 1000 wide; tall enough for one readable row per neuron (up to 100 rows).
PlotSize DefaultFitSize(int first_layer_neurons);

// A 2-D model's known target function: drawn beside the model's output with the residual.
struct SurfaceTruth {
  std::string name;                           // for the panel title
  double (*z)(double x, double y) = nullptr;  // none: the figure shows the model alone
};
// The truth of a --dataset value: the surface set's target (core's SurfaceZ) for "surface",
// none otherwise.
SurfaceTruth KnownTruth(const std::string& dataset);

// 2-D input models: heat maps over the data's bounding box of the truth (when known), output 0
// (both on one colour scale fitted to their values) and the residual truth - output 0 (a symmetric
// scale around 0); with `ablate`, also the change of output 0 when the neuron's outgoing weights
// are zeroed. Data: <stem>.grid.dat (x y output0 [truth residual] [output0_ablated difference]).
Figure WriteSurfaceFigure(const ModelData& model, const Dataset& data, const SurfaceTruth& truth,
                          const NeuronId* ablate, const std::string& png, PlotSize size = {});
// By the number of panels: 1 to 3 side by side, 4 in a 2 x 2 grid.
PlotSize DefaultSurfaceSize(int panels);

}  // namespace dpmlp
