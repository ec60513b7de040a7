// The one "rank 0 acts, then every rank learns the outcome" step: checkpoint and model writes,
// finding and reading the checkpoint to resume from, the best model, the metrics file.
#pragma once

#include <functional>
#include <string>

#include "dist/communicator.h"

namespace dpmlp {

// Rank 0 runs `act`; what it returned, or the error it raised, reaches every rank in one
// broadcast. On an error every rank throws the same CollectiveError (rank 0's exit code and
// message, an unexpected exception as an internal error), so no rank is left waiting. The other
// ranks do not run `act`: they return rank 0's result.
std::string RankZeroActs(Communicator& comm, const std::function<std::string()>& act);

}  // namespace dpmlp
