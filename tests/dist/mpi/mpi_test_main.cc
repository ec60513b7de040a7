// main() of the MPI test binary: MPI is initialised once by MpiRuntime, every rank runs every
// test, and only rank 0 prints GoogleTest's report (a failure on any rank fails the process).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "dist/communicator.h"
#include "tests/dist/mpi/world.h"

namespace dpmlp {
namespace mpi_test {
namespace {
std::unique_ptr<Communicator> g_world;

// On ranks other than 0 GoogleTest's report is silenced; this still prints each failed assertion,
// prefixed "[rank r]", so a failure seen only on one rank can be read in the CTest log.
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  // Remembered here: UnitTest::current_test_info() would deadlock inside OnTestPartResult.
  void OnTestStart(const ::testing::TestInfo& t) override {
    test_ = std::string(t.test_suite_name()) + "." + t.name();
  }
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s failed at %s:%d\n%s\n", rank_, test_.c_str(),
                 r.file_name() ? r.file_name() : "?", r.line_number(), r.message());
  }

 private:
  int rank_;
  std::string test_;
};
}  // namespace

Communicator& World() { return *g_world; }

}  // namespace mpi_test
}  // namespace dpmlp

int main(int argc, char** argv) {
  dpmlp::MpiRuntime mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  dpmlp::mpi_test::g_world = mpi.WorldCommunicator();
  dpmlp::Communicator& comm = dpmlp::mpi_test::World();
  if (comm.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new dpmlp::mpi_test::RankFailurePrinter(comm.rank()));
  }
  const int failed = RUN_ALL_TESTS();
  // Every rank must agree on success: a failure on any rank fails the run.
  double worst = failed;
  comm.AllreduceMax(&worst, 1);
  const int code = worst != 0 ? 1 : 0;
  dpmlp::mpi_test::g_world.reset();  // before MpiRuntime finalises MPI
  return code;
}
