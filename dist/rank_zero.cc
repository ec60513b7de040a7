#include "dist/rank_zero.h"

#include <exception>

#include "core/error.h"

namespace dpmlp {
namespace {

// An outcome: one byte (0: done, else the exit code; every code fits), then the result or the
// message.
std::string Outcome(const std::function<std::string()>& act) {
  try {
    return std::string(1, '\0') + act();
  } catch (const Error& e) {
    return std::string(1, static_cast<char>(e.code())) + e.what();
  } catch (const std::exception& e) {
    return std::string(1, static_cast<char>(kExitInternal)) + e.what();
  }
}

int CodeOf(const std::string& outcome) { return static_cast<unsigned char>(outcome.at(0)); }

}  // namespace

std::string RankZeroActs(Communicator& comm, const std::function<std::string()>& act) {
  std::string outcome;
  if (comm.rank() == 0) outcome = Outcome(act);
  comm.Broadcast(&outcome, 0);
  if (CodeOf(outcome) != 0) throw CollectiveError(CodeOf(outcome), outcome.substr(1));
  return outcome.substr(1);
}

void RankZeroWrites(Communicator& comm, const std::function<void()>& write) {
  RankZeroActs(comm, [&] {
    try {
      write();
    } catch (const Error& e) {
      if (e.code() == kExitUsage) throw;
      throw IoError(e.what());  // a write that failed otherwise: exit 4, earlier files intact
    }
    return std::string();
  });
}

void EveryRankActs(Communicator& comm, const std::function<void()>& act) {
  std::string outcome = Outcome([&] {
    act();
    return std::string();
  });
  // The codes first (one small allgather), then only the lowest failing rank's message.
  const std::vector<double> codes = comm.Allgather(CodeOf(outcome));
  for (int r = 0; r < comm.size(); ++r) {
    if (codes[r] == 0) continue;
    comm.Broadcast(&outcome, r);
    const std::string who = r > 0 ? "[rank " + std::to_string(r) + "] " : "";
    throw CollectiveError(static_cast<int>(codes[r]), who + outcome.substr(1));
  }
}

}  // namespace dpmlp
