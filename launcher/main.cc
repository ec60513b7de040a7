// dpmlp: one binary for a single process (a world of one) and for every rank under mpirun/srun.
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/error.h"
#include "dist/communicator.h"
#include "dist/rank_zero.h"
#include "dist/signals.h"
#include "dist/trainer.h"
#include "launcher/commands.h"

namespace dpmlp {

int Guarded(Communicator& comm, const std::function<bool()>& setup,
            const std::function<int()>& run) {
  // Agree before any collective of the run: the lowest failing rank speaks for all, through
  // rank 0 (one message however many ranks failed).
  bool proceed = false;
  try {
    EveryRankActs(comm, [&] { proceed = setup(); });
  } catch (const CollectiveError& e) {
    if (comm.rank() == 0) std::fprintf(stderr, "dpmlp: error: %s\n", e.what());
    return e.code();
  }
  if (!proceed) return 0;
  try {
    return run();
  } catch (const CollectiveError& e) {
    if (comm.rank() == 0)
      std::fprintf(stderr, "dpmlp: %s%s\n", e.code() == kExitPreempted ? "" : "error: ", e.what());
    return e.code();
  } catch (const Error& e) {
    // An error only this rank met while the others run on: it names the rank (one rank: none).
    const std::string who = comm.size() > 1 ? "[rank " + std::to_string(comm.rank()) + "] " : "";
    std::fprintf(stderr, "%sdpmlp: error: %s\n", who.c_str(), e.what());
    if (comm.size() > 1) comm.Abort(e.code());
    return e.code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[rank %d] dpmlp: internal error: %s\n", comm.rank(), e.what());
    if (comm.size() > 1) comm.Abort(kExitInternal);
    return kExitInternal;
  }
}

}  // namespace dpmlp

namespace {

const char kUsage[] =
    "usage: dpmlp <command> [options]   (dpmlp <command> --help for its options)\n"
    "\n"
    "  train    train an MLP (single process, or one rank per process under mpirun/srun)\n"
    "  eval     score a model or checkpoint on a data set's test split\n"
    "  predict  write predictions for a CSV of inputs\n"
    "  info     describe a model, a checkpoint, or the model the options would build\n"
    "  export   write a model as NumPy .npy files (weights, biases) or as one ONNX file\n"
    "  inspect  per-neuron effective intervals, dead/saturated neurons and ablation effects\n"
    "  plot     PNG plots through gnuplot: training curves, a 1-D fit, a 2-D surface\n"
    "\n"
    "exit codes: 0 done, 1 internal error, 2 bad usage or input, 3 diverged, 4 I/O failed,\n"
    "            5 a rank failed or stalled (collective watchdog),\n"
    "            75 stopped by a signal after checkpointing (rerun the same command),\n"
    "            128+N stopped by signal N outside training (nothing to save)\n";

}  // namespace

// glibc serves every block above its mmap threshold (at most 32 MiB) with a fresh mmap and gives
// it back on free. Open MPI's allreduce mallocs a full-size temporary per call, so a 46 MB gradient
// page-faulted and zero-filled 46 MB every step. For training, large blocks come from the heap
// instead, and up to 256 MiB of freed heap stays mapped for the next call. Results are unchanged:
// only where memory comes from changes. It starts after the data is loaded, and what loading
// freed goes back to the system first: set at start-up, the heap kept loading's freed buffers and
// a one-rank run of W peaked at 123 MB instead of 77 MB.
void dpmlp::KeepLargeBlocksOnHeap() {
  malloc_trim(0);
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int main(int argc, char** argv) {
  using namespace dpmlp;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("dpmlp %s\n", DPMLP_VERSION);
    return kExitOk;
  }
  const std::string command = argv[1];
  int (*fn)(Communicator&, int, char**) = nullptr;
  if (command == "train")
    fn = TrainCommand;
  else if (command == "eval")
    fn = EvalCommand;
  else if (command == "predict")
    fn = PredictCommand;
  else if (command == "info")
    fn = InfoCommand;
  else if (command == "export")
    fn = ExportCommand;
  else if (command == "inspect")
    fn = InspectCommand;
  else if (command == "plot")
    fn = PlotCommand;
  else {
    std::fprintf(stderr, "dpmlp: error: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return kExitUsage;
  }
  InstallStopSignalHandlers();
  // MPI_Init only when a launcher started us: `dpmlp train` alone needs no mpirun.
  std::unique_ptr<MpiRuntime> mpi;
  std::unique_ptr<Communicator> comm;
  if (LaunchedByMpi()) {
    mpi = std::make_unique<MpiRuntime>(&argc, &argv);
    comm = mpi->WorldCommunicator();
  } else {
    comm = std::make_unique<LocalCommunicator>();
  }
  const int code = fn(*comm, argc - 1, argv + 1);
  comm.reset();
  return code;
}
