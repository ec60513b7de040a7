// The collective watchdog: completes an MPI request, and when a rank waits longer than the
// communicator's --collective-timeout, names the ranks that did not arrive and ends the job with
// kExitStalled instead of hanging. Used by MpiCommunicator for every collective it waits on.
#pragma once

#include <mpi.h>

#include <vector>

#include "dist/communicator.h"

namespace dpmlp {

// Throws InternalError naming `what` and MPI's message unless rc is MPI_SUCCESS.
void CheckMpi(int rc, const char* what);

class CollectiveWatchdog {
 public:
  // `owner` gives the timeout, the watch context, the host names and Abort; the arrival notices
  // travel on a duplicate of `comm`, apart from the data.
  CollectiveWatchdog(Communicator& owner, MPI_Comm comm);
  ~CollectiveWatchdog();
  CollectiveWatchdog(const CollectiveWatchdog&) = delete;
  CollectiveWatchdog& operator=(const CollectiveWatchdog&) = delete;

  // Completes a collective. With the timeout on, polls it against the deadline: a rank that has
  // waited half the timeout tells every other rank that it arrived at collective #seq_, so at the
  // deadline each waiting rank knows who arrived and names the rest.
  void Wait(MPI_Request* req);

 private:
  void DrainNotices(std::vector<bool>* arrived);
  [[noreturn]] void Stalled(double waited);

  static constexpr int kArrivedTag = 7;
  Communicator& owner_;
  MPI_Comm watch_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  long long seq_ = 0;
};

}  // namespace dpmlp
