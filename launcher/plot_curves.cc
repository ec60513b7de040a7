// The training-curves figure: loss, accuracy (or MSE) and the learning rate per epoch, with the
// best epoch marked.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "launcher/plot_common.h"
#include "launcher/plot_figures.h"
#include "launcher/plot_series.h"

namespace dpmlp {

using plotting::Num;
using plotting::WriteData;

namespace {

// The largest over the smallest positive value of `keys`; 1 when any value is <= 0.
double Spread(const MetricsTable& m, const std::vector<std::string>& keys) {
  double lo = INFINITY, hi = 0;
  for (const auto& row : m.rows)
    for (const auto& k : keys) {
      const double v = row[m.column(k)];
      if (std::isnan(v)) continue;
      if (v <= 0) return 1.0;
      lo = std::min(lo, v), hi = std::max(hi, v);
    }
  return hi > 0 && std::isfinite(lo) ? hi / lo : 1.0;
}

// One panel: `keys` from columns first_column.. of `dat`, then `extra` (the best epoch's entries).
std::string Panel(const MetricsTable& m, const std::string& dat,
                  const std::vector<std::string>& keys, int first_column, const std::string& ylabel,
                  const std::string& extra) {
  // About 40 points marked per series; the line joins every epoch.
  const std::string every = std::to_string(std::max<size_t>(1, m.rows.size() / 40));
  std::string s = "set ylabel '" + ylabel + "'\n";
  // A learning rate is drawn from 0 on a linear scale, so a constant one is not an empty range.
  const bool log = Spread(m, keys) > 30;
  s += log ? "set logscale y\n" : "unset logscale y\n";
  s += !log && keys.size() == 1 && keys[0] == "lr" ? "set yrange [0:*]\n" : "set autoscale y\n";
  s += "plot ";
  for (size_t i = 0; i < keys.size(); ++i)
    s += (i ? ", \\\n     " : "") + dat + " using 1:" + std::to_string(first_column + i) +
         " with linespoints pt 7 ps 0.6 pi " + every + " lw 2 title '" + keys[i] + "'";
  return s + extra + "\n";
}

}  // namespace

Figure WriteCurvesFigure(const MetricsTable& m, const std::string& png, PlotSize size) {
  Figure f;
  f.png = png;
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
  const int lr = m.column("lr");
  const int panels = !loss_keys.empty() + !quality_keys.empty() + (lr >= 0);
  f.size = size.width > 0 ? size : PlotSize{panels == 3 ? 1650 : 1200, 500};

  std::string data = "# epoch";
  for (const auto& k : loss_keys) data += " " + k;
  for (const auto& k : quality_keys) data += " " + k + (accuracy ? "_percent" : "");
  data += lr >= 0 ? " lr\n" : "\n";
  double last_epoch = 1;
  for (size_t i = 0; i < m.rows.size(); ++i) {
    const auto& row = m.rows[i];
    last_epoch = std::max(last_epoch, EpochOfRow(m, i));
    data += Num(EpochOfRow(m, i));
    for (const auto& k : loss_keys) data += " " + Num(row[m.column(k)]);
    for (const auto& k : quality_keys) data += " " + Num(row[m.column(k)] * (accuracy ? 100 : 1));
    data += lr >= 0 ? " " + Num(row[lr]) + "\n" : "\n";
  }
  WriteData(&f, "metrics.dat", data);
  const std::string dat = GnuplotName(f.data_files[0]);

  // The best epoch: a dashed line in every panel (with a key entry), a ring on its loss.
  const BestEpoch best = FindBestEpoch(m);
  std::string line_key, ring;
  if (best.found) {
    WriteData(&f, "best.dat",
              "# epoch key loss: the best epoch, lowest val_loss if any, else lowest test_loss\n" +
                  Num(best.epoch) + " " + best.key + " " + Num(best.loss) + "\n");
    line_key = ", \\\n     NaN with lines dt 2 lw 1.5 lc rgb '#444444' title " +
               GnuplotQuote("best epoch " + Num(best.epoch) + " (lowest " + best.key + ")");
    ring = ", \\\n     " + GnuplotName(f.data_files[1]) +
           " using 1:3 with points pt 6 ps 2.2 lw 2 lc rgb '#444444' notitle";
  }
  std::string gp = plotting::Terminal(f);
  gp += "set multiplot layout 1," + std::to_string(panels) + " title " +
        GnuplotQuote("training curves: " + m.source.substr(m.source.rfind('/') + 1) +
                     (lr >= 0 ? "" : " (no lr in this file)")) +
        "\n";
  // Whole epochs on the x axis, about eight ticks.
  gp += "set xtics " + Num(std::max(1.0, plotting::NiceStep(last_epoch / 8))) + "\n";
  // Keys beneath the panels never cover a curve; a fixed bottom margin keeps the panels aligned.
  gp += "set xlabel 'epoch'\nset grid\nset format y '%g'\nset key below left Left reverse\n";
  gp += "set bmargin 7\nset autoscale xfix\n";
  if (best.found)
    gp += "set arrow 1 from " + Num(best.epoch) + ", graph 0 to " + Num(best.epoch) +
          ", graph 1 nohead dt 2 lw 1.5 lc rgb '#444444' back\n";
  if (!loss_keys.empty())
    gp += Panel(m, dat, loss_keys, 2, "loss (mean per sample)", line_key + ring);
  if (!quality_keys.empty()) {
    gp += Panel(m, dat, quality_keys, 2 + static_cast<int>(loss_keys.size()),
                accuracy ? "accuracy (%)" : "MSE", line_key);
  }
  if (lr >= 0) {
    gp += Panel(m, dat, {"lr"}, 2 + static_cast<int>(loss_keys.size() + quality_keys.size()),
                "learning rate", line_key);
  }
  gp += "unset multiplot\n";
  plotting::WriteScript(&f, gp);
  return f;
}

}  // namespace dpmlp
