// MpiCommunicator over a part of the world: the ranks split by parity (MPI_Comm_split) and the
// ranks of this host (MPI_Comm_split_type SHARED). Collectives stay inside the group, ranks and
// sizes are the group's, and the world communicator is untouched by them.
#include <gtest/gtest.h>
#include <mpi.h>

#include <string>
#include <vector>

#include "dist/mpi_communicator.h"
#include "tests/dist/mpi/world.h"

namespace dpmlp {
namespace {

using mpi_test::World;

// Frees the communicator after the MpiCommunicator working on it is gone.
struct OwnedComm {
  MPI_Comm comm = MPI_COMM_NULL;
  ~OwnedComm() {
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

TEST(SubCommunicatorTest, ParityGroupsSumOnlyTheirOwnRanks) {
  const int wrank = World().rank(), wsize = World().size();
  OwnedComm split;
  ASSERT_EQ(MPI_Comm_split(MPI_COMM_WORLD, wrank % 2, wrank, &split.comm), MPI_SUCCESS);
  {
    MpiCommunicator group(split.comm);
    // Members of this parity class: wrank % 2, wrank % 2 + 2, ... below wsize.
    std::vector<int> members;
    for (int r = wrank % 2; r < wsize; r += 2) members.push_back(r);
    EXPECT_EQ(group.size(), static_cast<int>(members.size()));
    EXPECT_EQ(group.rank(), wrank / 2);
    // Each rank adds 2^(world rank): the sum names exactly the group's members.
    std::vector<float> v(1000, static_cast<float>(1 << wrank));
    group.AllreduceSum(v.data(), v.size());
    float want = 0;
    for (int r : members) want += static_cast<float>(1 << r);
    for (float x : v) ASSERT_EQ(x, want);
    const std::vector<double> ranks = group.Allgather(wrank);
    ASSERT_EQ(ranks.size(), members.size());
    for (size_t i = 0; i < members.size(); ++i) EXPECT_EQ(ranks[i], members[i]);
    std::string bytes = group.rank() == 0 ? "from world rank " + std::to_string(wrank) : "";
    group.Broadcast(&bytes, 0);
    EXPECT_EQ(bytes, "from world rank " + std::to_string(members[0]));
    group.Barrier();
  }
  // The world still sums over everyone afterwards.
  float all = 1.0f;
  World().AllreduceSum(&all, 1);
  EXPECT_EQ(all, static_cast<float>(wsize));
}

TEST(SubCommunicatorTest, NodeLocalGroupHoldsTheRanksOfThisHost) {
  OwnedComm node;
  ASSERT_EQ(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, World().rank(), MPI_INFO_NULL,
                                &node.comm),
            MPI_SUCCESS);
  MpiCommunicator local(node.comm);
  // The test runs on one host: every world rank shares it.
  EXPECT_EQ(local.size(), World().size());
  EXPECT_EQ(local.rank(), World().rank());
  const std::vector<std::string>& hosts = local.Hostnames();
  ASSERT_EQ(hosts.size(), static_cast<size_t>(local.size()));
  for (const std::string& h : hosts) EXPECT_EQ(h, hosts[0]);
  double one = 1.0;
  local.AllreduceSum(&one, 1);
  EXPECT_EQ(one, static_cast<double>(local.size()));
}

}  // namespace
}  // namespace dpmlp
