// dpmlp predict: a model applied to a CSV of inputs, written as a CSV of predictions.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/batch.h"
#include "core/error.h"
#include "core/network.h"
#include "launcher/commands.h"
#include "launcher/model_file.h"
#include "launcher/options.h"
#include "proto/model_codec.h"

namespace dpmlp {

int PredictCommand(Communicator& comm, int argc, char** argv) {
  std::string model_path, ckpt_path, input, out;
  bool header = false;
  ModelData model;
  Dataset rows;
  auto setup = [&]() -> bool {
    po::options_description opts = ModelFileOptions(&model_path, &ckpt_path);
    opts.add_options()("input", po::value(&input)->required(),
                       "CSV of inputs, one sample per line, no label column; - reads standard "
                       "input (once, to its end, before any work)")(
        "out", po::value(&out)->required(),
        "CSV to write: class,p0,p1,... or the predicted values; - writes standard output (and "
        "nothing else goes there: messages go to standard error)")(
        "csv-header", po::bool_switch(&header),
        "the first row of --input names the columns; it is checked (one name per field, none "
        "empty; a row of numbers only is refused as data, except pandas' 0,1,...,n-1) and skipped");
    po::variables_map vm;
    if (!ParseCommandLine("predict", "--model FILE|--checkpoint FILE --input CSV|- --out CSV|-",
                          opts, argc, argv, &vm, comm.rank() == 0))
      return false;
    if (out != "-") CheckOutputPath("--out", out, false);  // before the work, not after it
    model = LoadModelChoice(model_path, ckpt_path);
    // Under mpirun only rank 0 has standard input, and only rank 0 predicts.
    if (input != "-" || comm.rank() == 0)
      rows = LoadCsvInputs(input, static_cast<size_t>(model.spec.input_dim), header);
    return true;
  };
  auto run = [&]() -> int {
    if (comm.rank() != 0) return kExitOk;  // small job: rank 0 alone
    const int chunk = 256, n_out = model.spec.output_dim;
    const bool classes =
        model.spec.output != OutputKind::kIdentity || model.spec.loss != LossKind::kMse;
    Network<float> net(model.spec, chunk);
    net.params() = model.params;
    std::string text;
    if (classes) {
      text = "class";
      for (int j = 0; j < (n_out == 1 ? 2 : n_out); ++j) text += ",p" + std::to_string(j);
    } else {
      for (int j = 0; j < n_out; ++j) text += (j ? ",y" : "y") + std::to_string(j);
    }
    text += '\n';
    char buf[32];
    // The rows normalised as the model's training data were (the gather of eval and inspect).
    BatchReader(rows, model.transform, chunk)
        .ForEach(0, rows.size, [&](size_t, int n, const float* x, const int32_t*, const float*) {
          net.Forward(x, n);
          for (int r = 0; r < n; ++r) {
            const float* o = net.output() + static_cast<size_t>(r) * n_out;
            if (classes && n_out == 1) {
              std::snprintf(buf, sizeof buf, "%d,%.6g,%.6g", o[0] > 0.5f ? 1 : 0, 1 - o[0], o[0]);
              text += buf;
            } else {
              if (classes) text += std::to_string(std::max_element(o, o + n_out) - o);
              for (int j = 0; j < n_out; ++j) {
                std::snprintf(buf, sizeof buf, "%s%.6g", (classes || j) ? "," : "", o[j]);
                text += buf;
              }
            }
            text += '\n';
          }
        });
    if (out == "-") {
      WriteStandardOutput(text);
      std::fprintf(stderr, "wrote %zu predictions to standard output\n", rows.size);
    } else {
      WriteFileAtomic(out, text);
      std::printf("wrote %zu predictions to %s\n", rows.size, out.c_str());
    }
    return kExitOk;
  };
  return Guarded(comm, setup, run);
}

}  // namespace dpmlp
