// The dpmlp subcommands and the error discipline they share.
#pragma once

#include <functional>
#include <memory>

#include "dist/communicator.h"

namespace dpmlp {

// Validation and loading (`setup`) run identically on every rank and may fail on any of them:
// the ranks agree on the outcome before any collective, so a bad input ends all of them with
// code 2 and one message. `run` may use collectives: a CollectiveError ends every rank with its
// code; any other error prints "[rank r] message" and aborts the whole job with its code.
// setup returns false when there is nothing to run (e.g. --help was printed).
int Guarded(Communicator& comm, const std::function<bool()>& setup,
            const std::function<int()>& run);

int TrainCommand(Communicator& comm, int argc, char** argv);

// The allocation policy for training (launcher/main.cc): freed memory back to the system, then
// large blocks from the heap and freed heap kept mapped. Call it once the data is loaded.
void KeepLargeBlocksOnHeap();
int EvalCommand(Communicator& comm, int argc, char** argv);
int PredictCommand(Communicator& comm, int argc, char** argv);
int InfoCommand(Communicator& comm, int argc, char** argv);
int ExportCommand(Communicator& comm, int argc, char** argv);
int InspectCommand(Communicator& comm, int argc, char** argv);
int PlotCommand(Communicator& comm, int argc, char** argv);

}  // namespace dpmlp
