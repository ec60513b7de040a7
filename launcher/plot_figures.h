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

// Loss curves (train, test, validation) and accuracy (or MSE for regression) against the epoch,
// side by side. Data: <stem>.metrics.dat.
Figure WriteCurvesFigure(const MetricsTable& metrics, const std::string& png, PlotSize size);

// 1-D input models: the data, the fitted curve (output 0), and below them each first-layer
// neuron's effective interval as a horizontal segment, sorted by centre, coloured by the loss
// increase when it is ablated. Data: <stem>.data.dat, <stem>.curve.dat, <stem>.intervals.dat.
Figure WriteFitFigure(const ModelData& model, const Dataset& data, const InspectionReport& report,
                      const std::string& png, PlotSize size);

// 2-D input models: a heat map of output 0 over the data's bounding box; with `ablate`, beside it
// the change of that output when the neuron's outgoing weights are zeroed.
// Data: <stem>.grid.dat (x y output [ablated difference]).
Figure WriteSurfaceFigure(const ModelData& model, const Dataset& data, const NeuronId* ablate,
                          const std::string& png, PlotSize size);

// Default pixel sizes of the figures.
PlotSize DefaultCurvesSize();
PlotSize DefaultFitSize();
PlotSize DefaultSurfaceSize(bool with_ablation);

}  // namespace dpmlp
