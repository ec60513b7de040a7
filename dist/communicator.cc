#include "dist/communicator.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/error.h"

namespace dpmlp {

std::string Communicator::RanksOnHosts(const std::vector<int>& ranks) const {
  std::string out;
  for (int r : ranks) {
    const std::string host = r < static_cast<int>(hosts_.size()) ? hosts_[r] : "?";
    out += (out.empty() ? "rank " : ", rank ") + std::to_string(r) + " on " + host;
  }
  return out;
}

void LocalCommunicator::Abort(int code) { std::_Exit(code); }

void LocalCommunicator::ReduceScatterSum(const float* in, float* out,
                                         const std::vector<size_t>& counts) {
  if (!counts.empty()) std::memcpy(out, in, counts[0] * sizeof(float));
}

std::vector<std::string> LocalCommunicator::GatherHostnames() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) std::strcpy(name, "?");
  return {name};
}

std::string DescribePlacement(const std::vector<std::string>& hosts) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<int>> ranks;
  for (int r = 0; r < static_cast<int>(hosts.size()); ++r) {
    if (ranks[hosts[r]].empty()) order.push_back(hosts[r]);
    ranks[hosts[r]].push_back(r);
  }
  std::string out = "placement: world size " + std::to_string(hosts.size()) + " on " +
                    std::to_string(order.size()) + (order.size() == 1 ? " host:" : " hosts:");
  for (const std::string& h : order) {
    const std::vector<int>& rs = ranks[h];
    out += (h == order.front() ? " " : ", ") + h + (rs.size() == 1 ? " rank " : " ranks ");
    for (size_t i = 0; i < rs.size();) {  // runs of consecutive ranks as a-b
      size_t j = i;
      while (j + 1 < rs.size() && rs[j + 1] == rs[j] + 1) ++j;
      if (i > 0) out += ',';
      out += std::to_string(rs[i]) + (j > i ? "-" + std::to_string(rs[j]) : "");
      i = j + 1;
    }
    out += " (" + std::to_string(rs.size()) + ")";
  }
  return out;
}

bool LaunchedByMpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

const std::vector<MpiDefault>& OpenMpiDefaults() {
  static const std::vector<MpiDefault> defaults = {
      // The nonblocking allreduce as a ring (bandwidth-optimal for the large gradient buffer),
      // not libnbc's size-based choice: 85 us instead of 247 us for W's 0.94 MB at np = 2.
      {"coll_libnbc_iallreduce_algorithm", "1"},
      // Copy through shared-memory fragments instead of CMA's process_vm_readv, which is 1.4-2x
      // slower here for 0.1-16 MB (docs/performance.md). Set it back with --mca where CMA or
      // XPMEM wins.
      {"btl_vader_single_copy_mechanism", "none"},
      // Shared-memory messages up to 32 KiB (vader's largest fragment) go eagerly instead of by
      // rendezvous above 4 KiB: the small sums (recursive doubling) of 4 and 16 KiB at np = 2
      // took 1.7 and 2.4 us instead of 3.1 and 4.0 us; nothing larger changed.
      {"btl_vader_eager_limit", "32768"},
  };
  return defaults;
}

std::vector<std::string> ApplyOpenMpiDefaults() {
  std::vector<std::string> set;
  const char* off = std::getenv("DPMLP_MPI_DEFAULTS");
  if (off != nullptr && std::string(off) == "off") return set;
  for (const MpiDefault& d : OpenMpiDefaults()) {
    const std::string var = std::string("OMPI_MCA_") + d.name;
    if (std::getenv(var.c_str()) != nullptr) continue;
    setenv(var.c_str(), d.value, 0);
    set.push_back(d.name);
  }
  return set;
}

}  // namespace dpmlp
