// The two agreements of a multi-rank run, with one encoding of an outcome (an exit code and a
// message): "rank 0 acts, then every rank learns the outcome" (checkpoint and model writes,
// finding and reading the checkpoint to resume from, the best model, the metrics file), and
// "every rank acts, then all agree" (a command's setup, where any rank may fail on its input).
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

// RankZeroActs for an output: rank 0 runs `write`; a failure other than a usage error (exit 2)
// becomes an I/O error (exit 4), and every rank throws it as a CollectiveError.
void RankZeroWrites(Communicator& comm, const std::function<void()>& write);

// Every rank runs `act`; then the ranks agree. When any rank failed, every rank throws the
// CollectiveError of the lowest failing rank (its code; its message, prefixed "[rank R] " when
// R > 0), so one rank can report for all.
void EveryRankActs(Communicator& comm, const std::function<void()>& act);

}  // namespace dpmlp
