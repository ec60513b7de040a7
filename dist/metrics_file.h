// The --metrics file (JSON lines, one per finished epoch) across restarts.
#pragma once

#include <cstdint>
#include <string>

namespace dpmlp {

// A run resumed from a checkpoint taken after `completed_epochs` epochs repeats every epoch past
// it, so the lines of those epochs from the interrupted attempt would appear twice. Removes them
// (and a torn last line without its newline), replacing the file atomically; lines that are not
// dpmlp epoch metrics are kept as they are. Returns how many lines were removed; a missing file
// removes none. Throws IoError when the file cannot be read or replaced.
int DropMetricsAfterEpoch(const std::string& path, int64_t completed_epochs);

}  // namespace dpmlp
