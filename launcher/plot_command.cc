// dpmlp plot: PNG pictures through gnuplot — training curves from a --metrics file, or a model
// with 1 or 2 inputs (fit with effective intervals; heat map with an optional ablation).
#include <cstdio>
#include <string>

#include "core/error.h"
#include "dist/inspect_sharded.h"
#include "launcher/commands.h"
#include "launcher/plot_figures.h"
#include "launcher/plot_gnuplot.h"
#include "launcher/plot_inputs.h"

namespace dpmlp {

int PlotCommand(Communicator& comm, int argc, char** argv) {
  InspectInputs in;
  std::string out, metrics_path, ablate_text, size_text, gnuplot;
  ModelData model;
  Dataset data;
  MetricsTable metrics;
  NeuronId ablate;
  PlotSize size;  // width 0: the figure's default
  auto setup = [&]() -> bool {
    po::options_description opts;
    po::options_description plot("Plot");
    plot.add_options()(
        "out", po::value(&out)->required(),
        "the PNG to write; its data files and gnuplot script go next to it (NAME.*.dat, NAME.gp)")(
        "metrics", po::value(&metrics_path), "draw the training curves of this --metrics file")(
        "ablate", po::value(&ablate_text),
        "2-D models: also draw the change when neuron L:U is ablated")(
        "size", po::value(&size_text), "WIDTHxHEIGHT in pixels (default: by figure)");
    opts.add(plot).add(InspectInputOptions(&in)).add(DataOptions(&in.data));
    po::variables_map vm;
    if (!ParseCommandLine(
            "plot",
            "--metrics FILE --out PNG | --model FILE|--checkpoint FILE [data options] --out PNG "
            "[--ablate L:U]  (gnuplot: $DPMLP_GNUPLOT, else gnuplot in PATH)",
            opts, argc, argv, &vm, comm.rank() == 0))
      return false;
    const bool has_model = !in.model_path.empty() || !in.checkpoint_path.empty();
    if (metrics_path.empty() == !has_model)
      throw UsageError(
          "plot: give --metrics FILE (training curves) or --model/--checkpoint FILE (the model), "
          "one of them");
    if (!metrics_path.empty()) {
      if (!ablate_text.empty())
        throw UsageError("--ablate needs a model (--model or --checkpoint), not --metrics");
      metrics = ReadMetricsFile(metrics_path);
    } else {
      model = LoadInspectedModel(in);
      if (model.spec.input_dim != 1 && model.spec.input_dim != 2)
        throw UsageError("plot --model draws models with 1 or 2 inputs; this one takes " +
                         std::to_string(model.spec.input_dim) +
                         " (dpmlp inspect covers any model)");
      data = LoadInspectedSplit(in, model.spec);
      if (!ablate_text.empty()) {
        if (model.spec.input_dim != 2)
          throw UsageError(
              "--ablate draws 2-input models; this one takes 1 (its "
              "neurons' ablation effects are in dpmlp inspect)");
        ablate = ParseNeuron(ablate_text, model.spec, "--ablate");
      }
    }
    if (!size_text.empty()) size = ParsePlotSize(size_text, "--size");
    gnuplot = FindGnuplot();
    return true;
  };
  auto run = [&]() -> int {
    // The 1-D picture colours each interval by its neuron's ablation effect: a sharded pass.
    InspectionReport report;
    if (metrics_path.empty() && model.spec.input_dim == 1)
      report = InspectSharded(comm, model.spec, model.params, model.transform, data);
    if (comm.rank() != 0) return gnuplot.empty() ? kExitUsage : kExitOk;
    const Figure f = !metrics_path.empty() ? WriteCurvesFigure(metrics, out, size)
                     : model.spec.input_dim == 1
                         ? WriteFitFigure(model, data, report, out, size)
                         : WriteSurfaceFigure(model, data, KnownTruth(in.data.dataset),
                                              ablate_text.empty() ? nullptr : &ablate, out, size);
    if (gnuplot.empty()) {
      std::fprintf(stderr, "dpmlp: error: %s\n", GnuplotMissingMessage({f}).c_str());
      return kExitUsage;
    }
    DrawFigure(gnuplot, f);
    std::printf("wrote %s (%dx%d)\n", out.c_str(), f.size.width, f.size.height);
    return kExitOk;
  };
  return Guarded(comm, setup, run);
}

}  // namespace dpmlp
