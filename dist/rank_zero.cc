#include "dist/rank_zero.h"

#include <exception>

#include "core/error.h"

namespace dpmlp {

std::string RankZeroActs(Communicator& comm, const std::function<std::string()>& act) {
  // One byte of outcome (0: done, else the exit code; every code fits), then the result or the
  // message.
  std::string outcome;
  if (comm.rank() == 0) {
    try {
      outcome = std::string(1, '\0') + act();
    } catch (const Error& e) {
      outcome = std::string(1, static_cast<char>(e.code())) + e.what();
    } catch (const std::exception& e) {
      outcome = std::string(1, static_cast<char>(kExitInternal)) + e.what();
    }
  }
  comm.Broadcast(&outcome, 0);
  const int code = static_cast<unsigned char>(outcome.at(0));
  if (code != 0) throw CollectiveError(code, outcome.substr(1));
  return outcome.substr(1);
}

}  // namespace dpmlp
