// The Open MPI parameters dpmlp sets before MPI_Init: set when absent, never over a value the
// user gave (mpirun --mca and OMPI_MCA_* both arrive as environment variables), none at all with
// DPMLP_MPI_DEFAULTS=off.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "dist/communicator.h"

namespace dpmlp {
namespace {

std::string Var(const MpiDefault& d) { return std::string("OMPI_MCA_") + d.name; }

class MpiDefaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(OpenMpiDefaults().empty());
    unsetenv("DPMLP_MPI_DEFAULTS");
    for (const MpiDefault& d : OpenMpiDefaults()) unsetenv(Var(d).c_str());
  }
  void TearDown() override { SetUp(); }
};

TEST_F(MpiDefaultsTest, SetsEveryDefaultThatIsAbsent) {
  const std::vector<std::string> set = ApplyOpenMpiDefaults();
  EXPECT_EQ(set.size(), OpenMpiDefaults().size());
  for (const MpiDefault& d : OpenMpiDefaults()) {
    const char* v = std::getenv(Var(d).c_str());
    ASSERT_NE(v, nullptr) << d.name;
    EXPECT_STREQ(v, d.value);
  }
}

TEST_F(MpiDefaultsTest, KeepsWhatTheUserSet) {
  const MpiDefault& first = OpenMpiDefaults().front();
  setenv(Var(first).c_str(), "user-choice", 1);
  const std::vector<std::string> set = ApplyOpenMpiDefaults();
  EXPECT_EQ(set.size(), OpenMpiDefaults().size() - 1);
  EXPECT_STREQ(std::getenv(Var(first).c_str()), "user-choice");
  for (const std::string& name : set) EXPECT_NE(name, first.name);
}

TEST_F(MpiDefaultsTest, OffSetsNothing) {
  setenv("DPMLP_MPI_DEFAULTS", "off", 1);
  EXPECT_TRUE(ApplyOpenMpiDefaults().empty());
  for (const MpiDefault& d : OpenMpiDefaults()) EXPECT_EQ(std::getenv(Var(d).c_str()), nullptr);
}

}  // namespace
}  // namespace dpmlp
