// --summary-json FILE: how a `dpmlp train` run ended, as one JSON object (pb::RunSummary), so
// that scripts and tests read the outcome instead of the log's prose.
#pragma once

#include <string>

#include "dist/train_config.h"
#include "dist/trainer.h"

namespace dpmlp {

// The exit_reason for an exit code: completed, early_stopped or max_steps for 0 (from s), then
// preempted (75), diverged (3), output_failed (4), stalled (5), usage_error (2), internal_error.
std::string ExitReason(int exit_code, const TrainSummary& s);

// The summary as one line of JSON; test figures only when the run evaluated its final model.
std::string RunSummaryJson(const TrainConfig& cfg, int world_size, const TrainSummary& s,
                           int exit_code, const std::string& message, double seconds);

// Rank 0 writes the summary atomically when --summary-json is set; a failed write is printed and
// turns a successful run's exit code into 4. Returns the exit code to use.
int WriteRunSummary(int rank, const TrainConfig& cfg, int world_size, const TrainSummary& s,
                    int exit_code, const std::string& message, double seconds);

}  // namespace dpmlp
