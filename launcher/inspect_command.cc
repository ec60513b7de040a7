// dpmlp inspect: what each hidden neuron of a trained model selects and contributes — effective
// intervals, time in the effective region, dead and saturated neurons, ablation — as a table,
// a CSV and optionally the pictures (fit with intervals, training curves). Sharded across ranks.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/inspect.h"
#include "core/number_text.h"
#include "dist/inspect_sharded.h"
#include "launcher/commands.h"
#include "launcher/plot_figures.h"
#include "launcher/plot_gnuplot.h"
#include "launcher/plot_inputs.h"

namespace dpmlp {

namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// A CSV field: empty for not applicable (NaN), inf/-inf for half-lines.
std::string Field(double v) { return std::isnan(v) ? "" : Fmt("%.9g", v); }

std::string Percent(double fraction) {
  return std::isnan(fraction) ? "n/a" : Fmt("%.1f%%", 100 * fraction);
}

// Each neuron's place in `order` (1: most important), indexed like report.neurons.
std::vector<int> ImportanceRanks(const std::vector<int>& order) {
  std::vector<int> rank(order.size());
  for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = static_cast<int>(i) + 1;
  return rank;
}

std::string IntervalText(const InputInterval& iv) {
  if (!iv.applicable) return "n/a";
  if (iv.empty()) return "(empty)";
  auto end = [](double v) {
    return std::isinf(v) ? std::string(v < 0 ? "-inf" : "+inf") : Fmt("%.3f", v);
  };
  return "(" + end(iv.lo) + ", " + end(iv.hi) + ")";
}

// "d_acc" in percentage points for classification, "d_mse" for regression.
std::string QualityDelta(const InspectionReport& rep, const NeuronReport& n) {
  return rep.classification ? Fmt("%+.2f%%", 100 * n.delta_accuracy) : Fmt("%+.3e", n.delta_mse);
}

void PrintReport(const ModelSpec& spec, const Dataset& data, const InspectionReport& rep, int top,
                 int max_rows, const std::string& csv) {
  std::printf("inspect: %d", spec.input_dim);
  for (int h : spec.hidden) std::printf("-%d", h);
  std::printf("-%d, %s hidden", spec.output_dim, Name(spec.activation));
  if (spec.activation == ActKind::kSigmoid) std::printf(" (k = %g)", spec.sigmoid_k);
  std::printf(", %s output, on %s: %.0f samples\n", Name(spec.output), data.source.c_str(),
              rep.count);
  if (rep.classification)
    std::printf("intact network: loss %s, accuracy %.2f%%\n", MetricText(rep.loss).c_str(),
                100 * rep.accuracy);
  else
    std::printf("intact network: loss %s, mse %s\n", MetricText(rep.loss).c_str(),
                MetricText(rep.mse).c_str());
  if (rep.layers.empty()) {
    std::printf("the model has no hidden layer: nothing to inspect\n");
    return;
  }
  std::printf("effective region: %s; ablation zeroes a neuron's outgoing weights\n\n",
              EffectiveRegionText(spec.activation));

  std::printf("hidden layer  neurons  effective          mean time in region\n");
  for (size_t l = 0; l < rep.layers.size(); ++l) {
    const LayerReport& L = rep.layers[l];
    const std::string eff =
        std::isnan(L.effective_fraction)
            ? "n/a"
            : std::to_string(L.effective) + " (" + Percent(L.effective_fraction) + ")";
    std::printf("%12zu  %7d  %-17s  %s\n", l + 1, L.width, eff.c_str(),
                Percent(L.mean_in_region).c_str());
  }

  const std::vector<int> order = ByImportance(rep);
  const std::vector<int> rank = ImportanceRanks(order);
  const bool one_d = spec.input_dim == 1;
  const char* quality = rep.classification ? "d_acc" : "d_mse";
  if (static_cast<int>(rep.neurons.size()) <= max_rows) {
    // Headers padded to the widths of the row format below.
    std::printf("\n%-6s  ", "neuron");
    if (one_d) std::printf("%8s  %-22s  %-8s  ", "centre", "effective interval (x)", "length");
    std::printf("%9s  %-9s  %-10s  %-10s  %4s\n", "in region", "state", "d_loss", quality, "rank");
    for (size_t i = 0; i < rep.neurons.size(); ++i) {
      const NeuronReport& n = rep.neurons[i];
      std::printf("%-6s  ", NeuronName(n.layer, n.unit).c_str());
      if (one_d) {
        const bool iv = n.interval.applicable;
        std::printf(
            "%8s  %-22s  %-8s  ",
            iv && !std::isnan(n.interval.centre) ? Fmt("%.3f", n.interval.centre).c_str() : "-",
            n.layer == 0 ? IntervalText(n.interval).c_str() : "-",
            iv && !n.interval.empty() ? Fmt("%.3f", n.interval.length()).c_str() : "-");
      }
      std::printf("%9s  %-9s  %+.3e  %-10s  %4d\n", Percent(n.in_region).c_str(), Name(n.state),
                  n.delta_loss, QualityDelta(rep, n).c_str(), rank[i]);
    }
  } else {
    std::printf("\n%zu hidden neurons: the per-neuron table is in %s\n", rep.neurons.size(),
                csv.empty() ? "--csv FILE (or raise --max-rows)" : csv.c_str());
  }

  const int k = std::min<int>(top, static_cast<int>(order.size()));
  auto list = [&](const char* title, int from, int step) {
    std::printf("\n%s:\n", title);
    for (int i = 0, at = from; i < k; ++i, at += step) {
      const NeuronReport& n = rep.neurons[order[at]];
      std::printf("  %-6s  d_loss %+.3e  %s %-10s  in region %-6s  %s\n",
                  NeuronName(n.layer, n.unit).c_str(), n.delta_loss, quality,
                  QualityDelta(rep, n).c_str(), Percent(n.in_region).c_str(), Name(n.state));
    }
  };
  if (k > 0) {
    list("most important (largest loss increase when ablated)", 0, 1);
    list("least important (smallest loss change; negative: the loss falls without the neuron)",
         static_cast<int>(order.size()) - 1, -1);
  }
}

std::string CsvText(const InspectionReport& rep) {
  const std::vector<int> rank = ImportanceRanks(ByImportance(rep));
  std::string t =
      "layer,unit,state,in_region,centre,interval_lo,interval_hi,interval_length,loss_ablated,"
      "delta_loss,"
      "accuracy_ablated,delta_accuracy,mse_ablated,delta_mse,importance_rank\n";
  for (size_t i = 0; i < rep.neurons.size(); ++i) {
    const NeuronReport& n = rep.neurons[i];
    const InputInterval& iv = n.interval;
    const double nan = std::nan("");
    const bool has = iv.applicable;
    t += std::to_string(n.layer + 1) + "," + std::to_string(n.unit) + "," + Name(n.state) + "," +
         Field(n.in_region) + "," + Field(has ? iv.centre : nan) + "," + Field(has ? iv.lo : nan) +
         "," + Field(has ? iv.hi : nan) + "," + Field(has ? iv.length() : nan) + "," +
         Field(n.loss) + "," + Field(n.delta_loss) + "," +
         Field(rep.classification ? n.accuracy : nan) + "," +
         Field(rep.classification ? n.delta_accuracy : nan) + "," + Field(n.mse) + "," +
         Field(n.delta_mse) + "," + std::to_string(rank[i]) + "\n";
  }
  return t;
}

}  // namespace

int InspectCommand(Communicator& comm, int argc, char** argv) {
  InspectInputs in;
  std::string csv, plot, curves, metrics_path, ablate_text, gnuplot;
  int top = 5, max_rows = 100;
  ModelData model;
  Dataset data;
  MetricsTable metrics;
  NeuronId ablate;
  auto setup = [&]() -> bool {
    po::options_description opts;
    po::options_description out("Output");
    // clang-format off
    out.add_options()
        ("csv", po::value(&csv), "write every neuron's row to this CSV")
        ("top", WithDefault(&top), "how many most and least important neurons to list")
        ("max-rows", WithDefault(&max_rows), "print the per-neuron table when the model has at most this many hidden neurons")
        ("plot", po::value(&plot), "PNG of the model: 1-D input: data, fit and each first-layer neuron's effective interval; 2-D input: heat map of the output")
        ("ablate", po::value(&ablate_text), "with --plot on a 2-D model: also the change when neuron L:U is ablated")
        ("metrics", po::value(&metrics_path), "a --metrics file of the training run, for --curves")
        ("curves", po::value(&curves), "PNG of the loss and accuracy (or MSE) curves from --metrics");
    // clang-format on
    opts.add(InspectInputOptions(&in)).add(DataOptions(&in.data)).add(out);
    po::variables_map vm;
    if (!ParseCommandLine(
            "inspect",
            "--model FILE|--checkpoint FILE [data options] [--split test|train] [--csv FILE] "
            "[--plot PNG [--ablate L:U]] [--metrics FILE --curves PNG]",
            opts, argc, argv, &vm, comm.rank() == 0))
      return false;
    CheckOption("top", top, {0, kInf, false, true, true});
    CheckOption("max-rows", max_rows, {0, kInf, false, true, true});
    if (!curves.empty() && metrics_path.empty()) throw UsageError("--curves needs --metrics FILE");
    if (!metrics_path.empty() && curves.empty())
      throw UsageError("--metrics is read for --curves PNG: give both");
    model = LoadInspectedModel(in);
    data = LoadInspectedSplit(in, model.spec);
    if (!plot.empty() && model.spec.input_dim != 1 && model.spec.input_dim != 2)
      throw UsageError("--plot draws models with 1 or 2 inputs; this one takes " +
                       std::to_string(model.spec.input_dim) +
                       " (the table and --csv cover any model)");
    if (!ablate_text.empty()) {
      if (plot.empty() || model.spec.input_dim != 2)
        throw UsageError("--ablate goes with --plot on a 2-input model");
      ablate = ParseNeuron(ablate_text, model.spec, "--ablate");
    }
    if (!metrics_path.empty()) metrics = ReadMetricsFile(metrics_path);
    if (!plot.empty() || !curves.empty()) gnuplot = FindGnuplot();
    return true;
  };
  auto run = [&]() -> int {
    const InspectionReport rep =
        InspectSharded(comm, model.spec, model.params, model.transform, data);
    const bool want_plots = !plot.empty() || !curves.empty();
    if (comm.rank() != 0) return want_plots && gnuplot.empty() ? kExitUsage : kExitOk;
    PrintReport(model.spec, data, rep, top, max_rows, csv);
    if (!csv.empty()) {
      WriteFileAtomic(csv, CsvText(rep));
      std::printf("\nwrote %s (%zu neurons)\n", csv.c_str(), rep.neurons.size());
    }
    std::vector<Figure> figures;
    if (!plot.empty())
      figures.push_back(model.spec.input_dim == 1
                            ? WriteFitFigure(model, data, rep, plot)
                            : WriteSurfaceFigure(model, data, KnownTruth(in.data.dataset),
                                                 ablate_text.empty() ? nullptr : &ablate, plot));
    if (!curves.empty()) figures.push_back(WriteCurvesFigure(metrics, curves));
    if (want_plots && gnuplot.empty()) {
      std::fflush(stdout);
      std::fprintf(stderr, "dpmlp: error: %s\n", GnuplotMissingMessage(figures).c_str());
      return kExitUsage;
    }
    for (const Figure& f : figures) {
      DrawFigure(gnuplot, f);
      std::printf("wrote %s\n", f.png.c_str());
    }
    return kExitOk;
  };
  return Guarded(comm, setup, run);
}

}  // namespace dpmlp
