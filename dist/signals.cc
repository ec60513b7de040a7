#include "dist/signals.h"

#include <signal.h>
#include <unistd.h>

#include <csignal>

#include "core/error.h"

namespace dpmlp {
namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_critical = 0;
volatile std::sig_atomic_t g_deferred = 0;

// Writes "dpmlp: stopped by signal N (what)\n" with async-signal-safe calls only.
void SayStopped(int sig) {
  char msg[96] = "dpmlp: stopped by signal ";
  size_t n = sizeof "dpmlp: stopped by signal " - 1;
  if (sig >= 10) msg[n++] = static_cast<char>('0' + sig / 10);
  msg[n++] = static_cast<char>('0' + sig % 10);
  static const char tail[] = " outside training: nothing to save\n";
  for (const char* c = tail; *c; ++c) msg[n++] = *c;
  ssize_t ignored = write(STDERR_FILENO, msg, n);
  (void)ignored;
}

void OnStopSignal(int sig) {
  if (g_critical) {
    static const char msg[] =
        "dpmlp: second signal while checkpointing: exiting now; the previous checkpoint is "
        "intact\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(kExitPreempted);
  }
  if (!g_deferred) {
    // Reading options or data, or predicting: there is no work to save, and a read that blocks
    // (a FIFO with no writer, a slow device) would restart after the handler (SA_RESTART) and
    // never look at a flag. End now, with the code the default action implies (128 + signo).
    SayStopped(sig);
    _exit(128 + sig);
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

void DeferStopSignals() { g_deferred = 1; }
int StopSignalReceived() { return g_signal; }
void EnterCheckpointCriticalSection() { g_critical = 1; }
void ResetStopSignal() { g_signal = 0, g_critical = 0; }

}  // namespace dpmlp
