// main() of the MPI test binary: MPI is initialised once by MpiRuntime, every rank runs every
// test, and only rank 0 prints GoogleTest's report (a failure on any rank fails the process).
#include <gtest/gtest.h>

#include "dist/communicator.h"

int main(int argc, char** argv) {
  dpmlp::MpiRuntime mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  auto comm = mpi.WorldCommunicator();
  if (comm->rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  // Every rank must agree on success: a failure on any rank fails the run.
  double worst = failed;
  comm->AllreduceMax(&worst, 1);
  return worst != 0 ? 1 : 0;
}
