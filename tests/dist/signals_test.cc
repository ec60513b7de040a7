// Stop-signal handling, in forked children (death tests): the handlers are process-wide.
#include "dist/signals.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include "core/error.h"

namespace dpmlp {
namespace {

void SleepMs(int ms) { usleep(useconds_t(ms) * 1000); }

TEST(StopSignalsDeathTest, OutsideTrainingExitsWith128PlusSigno) {
  EXPECT_EXIT(
      {
        InstallStopSignalHandlers();
        raise(SIGTERM);
        _exit(0);
      },
      testing::ExitedWithCode(128 + SIGTERM), "stopped by signal 15 outside training");
}

TEST(StopSignalsDeathTest, InsideTrainingASignalIsOnlyRecorded) {
  EXPECT_EXIT(
      {
        InstallStopSignalHandlers();
        DeferStopSignals();
        raise(SIGUSR1);
        _exit(StopSignalReceived() == SIGUSR1 ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
}

// A copy of the same stop landing while the checkpoint is written must not abandon it.
TEST(StopSignalsDeathTest, RepeatWithinTheWindowDoesNotAbandonTheCheckpoint) {
  EXPECT_EXIT(
      {
        InstallStopSignalHandlers();
        DeferStopSignals();
        raise(SIGUSR1);
        EnterCheckpointCriticalSection();
        raise(SIGUSR1);
        raise(SIGTERM);
        _exit(StopSignalReceived() != 0 ? 0 : 1);
      },
      testing::ExitedWithCode(0), "still writing");
}

TEST(StopSignalsDeathTest, SignalAfterTheWindowExitsAt75) {
  EXPECT_EXIT(
      {
        InstallStopSignalHandlers();
        DeferStopSignals();
        raise(SIGINT);
        EnterCheckpointCriticalSection();
        SleepMs(kStopRepeatWindowMs + 200);
        raise(SIGINT);
        _exit(0);
      },
      testing::ExitedWithCode(kExitPreempted), "second signal while checkpointing");
}

}  // namespace
}  // namespace dpmlp
