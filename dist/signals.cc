#include "dist/signals.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <ctime>

#include "core/error.h"

namespace dpmlp {
namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_critical = 0;
volatile std::sig_atomic_t g_deferred = 0;
// When the stop signal was taken (CLOCK_MONOTONIC, ms). One stop often arrives more than once:
// Slurm, mpirun and the batch shell each pass it on, and copies can land while the checkpoint is
// being written. Only a signal well after the first is a request to give up on the checkpoint.
std::atomic<int64_t> g_taken_ms{0};
static_assert(std::atomic<int64_t>::is_always_lock_free, "used from a signal handler");

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe (POSIX)
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Say(const char* msg, size_t n) {
  ssize_t ignored = write(STDERR_FILENO, msg, n);
  (void)ignored;
}

// Writes "dpmlp: stopped by signal N (what)\n" with async-signal-safe calls only.
void SayStopped(int sig) {
  char msg[96] = "dpmlp: stopped by signal ";
  size_t n = sizeof "dpmlp: stopped by signal " - 1;
  if (sig >= 10) msg[n++] = static_cast<char>('0' + sig / 10);
  msg[n++] = static_cast<char>('0' + sig % 10);
  static const char tail[] = " outside training: nothing to save\n";
  for (const char* c = tail; *c; ++c) msg[n++] = *c;
  Say(msg, n);
}

void OnStopSignal(int sig) {
  if (g_critical) {
    if (MonotonicMs() - g_taken_ms.load() < kStopRepeatWindowMs) {
      static const char msg[] =
          "dpmlp: the stop signal again, while checkpointing: still writing (a signal 2 s after "
          "the first exits at once)\n";
      Say(msg, sizeof msg - 1);
      return;
    }
    static const char msg[] =
        "dpmlp: second signal while checkpointing: exiting now; the previous checkpoint is "
        "intact\n";
    Say(msg, sizeof msg - 1);
    _exit(kExitPreempted);
  }
  if (!g_deferred) {
    // Reading options or data, or predicting: there is no work to save, and a read that blocks
    // (a FIFO with no writer, a slow device) would restart after the handler (SA_RESTART) and
    // never look at a flag. End now, with the code the default action implies (128 + signo).
    SayStopped(sig);
    _exit(128 + sig);
  }
  if (!g_signal) g_taken_ms.store(MonotonicMs());
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
void ResetStopSignal() { g_signal = 0, g_critical = 0, g_taken_ms.store(0); }

}  // namespace dpmlp
