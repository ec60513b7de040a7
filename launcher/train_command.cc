// dpmlp train: options → data → model spec → the data-parallel trainer.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/blas.h"
#include "core/blas_info.h"
#include "core/error.h"
#include "dist/trainer.h"
#include "launcher/commands.h"
#include "launcher/data_setup.h"
#include "launcher/model_file.h"
#include "launcher/run_summary.h"

namespace dpmlp {

namespace {

// The BLAS line of the header, and the notice when OPENBLAS_CORETYPE forces a weaker kernel than
// the CPU runs (rank 0 prints it once; the environment stays as the user set it).
void PrintBlas() {
  const BlasInfo blas = QueryBlas();
  std::printf("%s\n", BlasLine(blas).c_str());
  const std::string notice =
      ForcedKernelNotice(DetectCpuFeatures(), std::getenv("OPENBLAS_CORETYPE"), blas.core);
  if (!notice.empty()) std::printf("%s\n", notice.c_str());
}

// The training, validation and test sets as the options say, with the input normalisation (the
// --init-from file's, when given: its weights were trained on inputs mapped so).
TrainData LoadTrainData(const TrainConfig& cfg, const ModelOptions& mopts, ModelSpec* spec) {
  TrainData data;
  DataSplit split = LoadData(cfg);
  data.train = std::move(split.train);
  data.test = std::move(split.test);
  if (data.train.size == 0) throw UsageError(data.train.source + ": the training set is empty");
  try {
    if (cfg.val_fraction > 0) data.val = SplitValidation(&data.train, cfg.val_fraction, cfg.seed);
  } catch (const Error& e) {
    throw UsageError(std::string("--val-fraction: ") + e.what());
  }
  if (!cfg.val_npy.empty()) data.val = LoadValidation(cfg, data.train);
  if (cfg.augment.any() && data.train.image_height == 0)
    throw UsageError(std::string(cfg.augment.enabled ? "--augment"
                                 : cfg.augment.flip  ? "--augment-flip"
                                                     : "--erase-prob") +
                     " needs image data (IDX); " + data.train.source + " is not images");
  *spec = BuildSpec(mopts, data.train);
  if (cfg.init_from.empty()) {
    data.transform = FitInputTransform(data.train, NormalizationFor(cfg));
  } else {
    ModelData init = LoadInitModel(cfg.init_from, *spec);
    data.transform = std::move(init.transform);
    data.initial_params = std::move(init.params);
  }
  return data;
}

// Rank 0's header: version and world, BLAS, model, data, optimizer.
void PrintHeader(const Communicator& comm, const TrainConfig& cfg, int threads,
                 const ModelSpec& spec, const TrainData& data) {
  std::printf("dpmlp %s train: world size %d (%s), %d OpenBLAS thread(s) per rank\n", DPMLP_VERSION,
              comm.size(), comm.backend(), threads);
  PrintBlas();
  std::printf("model %s %s -> %s/%s, init %s, parameters: %lld\n", spec.Widths().c_str(),
              Name(spec.activation), Name(spec.output), Name(spec.loss), Name(spec.init),
              (long long)spec.parameter_count());
  if (!cfg.init_from.empty())
    std::printf("init from %s: its parameters and normalisation (not --normalize's)\n",
                cfg.init_from.c_str());
  std::printf("data %s: train %zu, validation %zu, test %zu\n", data.train.source.c_str(),
              data.train.size, data.val.size, data.test.size);
  std::printf("optimizer: global batch %lld (%lld per rank at most), lr %g %s, momentum %g%s\n",
              (long long)cfg.batch_size,
              (long long)((cfg.batch_size + comm.size() - 1) / comm.size()), cfg.lr,
              LrSchedule::Name(cfg.lr_schedule), cfg.sgd.momentum,
              cfg.sgd.nesterov ? " (nesterov)" : "");
  std::fflush(stdout);
}

// The run phase: placement, the trainer, and --summary-json however the run ends.
int RunTraining(Communicator& comm, const TrainConfig& cfg, const ModelSpec& spec,
                const TrainData& data) {
  const std::string placement = DescribePlacement(comm.Hostnames());
  if (comm.rank() == 0) {
    std::printf("%s\n", placement.c_str());
    std::fflush(stdout);
  }
  KeepLargeBlocksOnHeap();
  Trainer trainer(comm, spec, data, cfg);
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  try {
    const TrainSummary s = trainer.Run();
    return WriteRunSummary(comm.rank(), cfg, comm.size(), s, kExitOk, "", seconds());
  } catch (const Error& e) {
    // Every rank is here for a CollectiveError; for another error, this rank alone (it then ends
    // the job): either way rank 0 records how the run ended before the error goes on.
    WriteRunSummary(comm.rank(), cfg, comm.size(), trainer.SoFar(), e.code(), e.what(), seconds());
    throw;
  }
}

}  // namespace

int TrainCommand(Communicator& comm, int argc, char** argv) {
  TrainConfig cfg;
  ModelOptions mopts;
  int threads = 0;
  ModelSpec spec;
  TrainData data;
  auto setup = [&]() -> bool {
    po::options_description opts;
    opts.add(DataOptions(&cfg))
        .add(ModelOptionsGroup(&mopts))
        .add(TrainingOptions(&cfg, &threads))
        .add(CheckpointOptions(&cfg));
    po::variables_map vm;
    // --print-config checks the ranges first: a printed configuration is one that would run.
    const auto check = [&] { ValidateTrainConfig(cfg, vm.count("threads") ? threads : 1); };
    if (!ParseCommandLine("train", "[options]", opts, argc, argv, &vm, comm.rank() == 0, check))
      return false;
    // From here on no rank waits forever for another, not even for the start-up agreement.
    comm.SetCollectiveTimeout(cfg.collective_timeout);
    comm.SetWatchContext("start-up (options and data loading)");
    // One rank per core under a launcher; a lone process may use every core.
    if (!vm.count("threads"))
      threads = comm.size() > 1 || LaunchedByMpi()
                    ? 1
                    : std::max(1u, std::thread::hardware_concurrency());
    ValidateTrainConfig(cfg, threads);
    // Under mpirun rank 0 writes into a pty even when the job's output goes to a log: no bar.
    cfg.progress_bar_allowed = !LaunchedByMpi();
    SetBlasThreads(threads);
    if (cfg.augment.any()) cfg.augment.seed = cfg.seed;
    data = LoadTrainData(cfg, mopts, &spec);
    if (comm.rank() == 0) PrintHeader(comm, cfg, threads, spec, data);
    return true;
  };
  auto run = [&]() -> int { return RunTraining(comm, cfg, spec, data); };
  return Guarded(comm, setup, run);
}

}  // namespace dpmlp
