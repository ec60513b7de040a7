#include "dist/signals.h"

#include <signal.h>
#include <unistd.h>

#include <csignal>

#include "core/error.h"

namespace dpmlp {
namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_critical = 0;

void OnStopSignal(int sig) {
  if (g_critical) {
    static const char msg[] =
        "dpmlp: second signal while checkpointing: exiting now; the previous checkpoint is "
        "intact\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(kExitPreempted);
  }
  g_signal = sig;
}

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

int StopSignalReceived() { return g_signal; }
void EnterCheckpointCriticalSection() { g_critical = 1; }
void ResetStopSignal() { g_signal = 0, g_critical = 0; }

}  // namespace dpmlp
