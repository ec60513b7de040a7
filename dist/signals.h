// Preemption: SIGTERM, SIGINT and SIGUSR1 set a flag that the trainer combines across ranks at
// the next step boundary (it rides in the gradient allreduce). A second signal while the
// checkpoint is being written exits at once; the atomic rename keeps the previous one intact.
#pragma once

namespace dpmlp {

void InstallStopSignalHandlers();
// The signal number received, or 0.
int StopSignalReceived();
// Marks that the final checkpoint is being written: a further signal now exits immediately.
void EnterCheckpointCriticalSection();
// For tests: forget any received signal.
void ResetStopSignal();

}  // namespace dpmlp
