#include "dist/collective_watchdog.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"

namespace dpmlp {

void CheckMpi(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw InternalError(std::string(what) + " failed: " + std::string(msg, len));
  }
}

CollectiveWatchdog::CollectiveWatchdog(Communicator& owner, MPI_Comm comm) : owner_(owner) {
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
  MPI_Comm_dup(comm, &watch_);
}

CollectiveWatchdog::~CollectiveWatchdog() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&watch_);
}

void CollectiveWatchdog::Wait(MPI_Request* req) {
  ++seq_;
  const double timeout = owner_.collective_timeout();
  if (timeout <= 0) {
    CheckMpi(MPI_Wait(req, MPI_STATUS_IGNORE), "MPI_Wait");
    return;
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  bool notified = false;
  for (unsigned spin = 0;; ++spin) {
    int done = 0;
    CheckMpi(MPI_Test(req, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) break;
    if (spin % 64 != 0) continue;
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    // A long wait (a slow or stopped peer) yields the core instead of spinning on it.
    if (waited > 0.01) std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (!notified && waited > timeout / 2) {
      for (int r = 0; r < size_; ++r) {
        if (r == rank_) continue;
        MPI_Request note;
        MPI_Isend(&seq_, 1, MPI_LONG_LONG, r, kArrivedTag, watch_, &note);
        MPI_Request_free(&note);
      }
      notified = true;
    }
    if (waited > timeout) Stalled(waited);
  }
  DrainNotices(nullptr);
}

// Receives pending arrival notices; marks in `arrived` the ranks that reached collective seq_ or a
// later one (a rank can finish its part of a collective and wait in the next).
void CollectiveWatchdog::DrainNotices(std::vector<bool>* arrived) {
  for (;;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kArrivedTag, watch_, &flag, &st);
    if (!flag) return;
    long long seq = 0;
    MPI_Recv(&seq, 1, MPI_LONG_LONG, st.MPI_SOURCE, kArrivedTag, watch_, MPI_STATUS_IGNORE);
    if (arrived && seq >= seq_) (*arrived)[st.MPI_SOURCE] = true;
  }
}

void CollectiveWatchdog::Stalled(double waited) {
  const std::string where = owner_.WatchContext();
  // Polls are ~50 us apart, so a wait far past the deadline means this process itself was
  // suspended (e.g. SIGSTOP, then woken by the job's abort): it is the straggler, not a witness.
  if (waited > 1.5 * owner_.collective_timeout() + 1.0) {
    std::fprintf(stderr,
                 "[rank %d] dpmlp: error: this rank was suspended for about %.0f s at %s; ending "
                 "the job\n",
                 rank_, waited, where.c_str());
    std::fflush(stderr);
    owner_.Abort(kExitStalled);
  }
  std::vector<bool> arrived(size_, false);
  arrived[rank_] = true;
  DrainNotices(&arrived);
  std::string missing, present;
  std::vector<int> lost;
  for (int r = 0; r < size_; ++r) {
    std::string& list = arrived[r] ? present : missing;
    list += (list.empty() ? "" : ",") + std::to_string(r);
    if (!arrived[r]) lost.push_back(r);
  }
  if (missing.empty()) {
    // Every peer arrived and gave up first: this rank came late (it was stopped or starved), so
    // it names itself, not an empty set of missing ranks.
    std::string others;
    for (int r = 0; r < size_; ++r)
      if (r != rank_) others += (others.empty() ? "" : ",") + std::to_string(r);
    std::fprintf(stderr,
                 "[rank %d] dpmlp: error: collective timeout at %s: this rank arrived late; every "
                 "other rank (%s) was waiting for it; ending the job\n",
                 rank_, where.c_str(), others.c_str());
    std::fflush(stderr);
    owner_.Abort(kExitStalled);
  }
  std::fprintf(stderr,
               "[rank %d] dpmlp: error: collective timeout at %s: waited %.0f s "
               "(--collective-timeout) for "
               "rank(s) %s that did not arrive (arrived: %s); lost: %s; ending the job\n",
               rank_, where.c_str(), waited, missing.c_str(), present.c_str(),
               owner_.RanksOnHosts(lost).c_str());
  std::fflush(stderr);
  owner_.Abort(kExitStalled);
  std::_Exit(kExitStalled);  // not reached: Abort does not return
}

}  // namespace dpmlp
