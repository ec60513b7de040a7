// Rank 0's view of training progress: a bar redrawn in place on a terminal, or plain
// timestamped lines (Slurm logs, CI) every few seconds; `--progress auto|bar|lines|off`.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace dpmlp {

class Progress {
 public:
  // mode: auto | bar | lines | off; `enabled` is false on ranks other than 0. `auto` draws a bar
  // when `out` is a terminal and the caller allows it (bar_allowed: the launcher says no under
  // mpirun, where rank 0 writes into a pty even when the job's output goes to a log).
  Progress(const std::string& mode, bool enabled, bool bar_allowed, std::FILE* out = stdout);
  void StartEpoch(int64_t epoch, int64_t epochs, int64_t samples_in_epoch, int64_t done);
  // After each step: samples of this epoch done so far and the running mean loss.
  void Update(int64_t done, double mean_loss);
  // Removes the bar before the epoch summary is printed.
  void EndEpoch();
  // Validates a --progress value; throws UsageError.
  static void Check(const std::string& mode);

 private:
  using Clock = std::chrono::steady_clock;
  enum class Mode { kBar, kLines, kOff } mode_;
  std::FILE* out_;
  int64_t epoch_ = 0, epochs_ = 0, total_ = 0, start_done_ = 0;
  Clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace dpmlp
