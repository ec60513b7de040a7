// The placement line dpmlp prints at start: world size, hosts in order of their first rank, and
// each host's ranks as runs of consecutive numbers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dist/communicator.h"

namespace dpmlp {
namespace {

TEST(PlacementTest, OneHost) {
  EXPECT_EQ(DescribePlacement({"vm"}), "placement: world size 1 on 1 host: vm rank 0 (1)");
  EXPECT_EQ(DescribePlacement({"vm", "vm", "vm"}),
            "placement: world size 3 on 1 host: vm ranks 0-2 (3)");
}

TEST(PlacementTest, BlocksPerHost) {
  EXPECT_EQ(DescribePlacement({"node1", "node1", "node2", "node2"}),
            "placement: world size 4 on 2 hosts: node1 ranks 0-1 (2), node2 ranks 2-3 (2)");
}

TEST(PlacementTest, RoundRobinAndUnevenHosts) {
  // --map-by node deals ranks out in turn; a host may hold more ranks than another.
  EXPECT_EQ(DescribePlacement({"b", "a", "b", "a", "b", "b"}),
            "placement: world size 6 on 2 hosts: b ranks 0,2,4-5 (4), a ranks 1,3 (2)");
}

TEST(PlacementTest, LocalCommunicatorNamesThisHost) {
  LocalCommunicator comm;
  const std::vector<std::string>& hosts = comm.Hostnames();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_FALSE(hosts[0].empty());
  EXPECT_EQ(&comm.Hostnames(), &hosts);  // gathered once, then remembered
}

}  // namespace
}  // namespace dpmlp
