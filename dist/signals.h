// Stop signals (SIGTERM, SIGINT, SIGUSR1). Until the trainer enters its step loop (options, data
// and checkpoint loading; predict, eval, info, ...) a signal ends the process at once with exit
// 128 + signo: nothing is worth saving, and a blocking read (a FIFO) must not outlive it.
// Inside training (DeferStopSignals) a signal sets a flag that the trainer combines across ranks
// at the next step boundary (it rides in the gradient allreduce), checkpoints and exits 75. A
// second signal while that checkpoint is being written exits at once (the atomic rename keeps
// the previous one intact), unless it comes within kStopRepeatWindowMs of the first: one stop is
// often delivered more than once (Slurm, mpirun and a batch shell each pass it on).
#pragma once

namespace dpmlp {

constexpr int kStopRepeatWindowMs = 2000;

void InstallStopSignalHandlers();
// From now on a stop signal is only recorded: the trainer checkpoints at the next step boundary.
void DeferStopSignals();
// The signal number received, or 0.
int StopSignalReceived();
// Marks that the final checkpoint is being written: a further signal (after the repeat window)
// now exits immediately.
void EnterCheckpointCriticalSection();
// For tests: forget any received signal.
void ResetStopSignal();

}  // namespace dpmlp
