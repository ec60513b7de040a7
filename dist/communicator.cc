#include "dist/communicator.h"

#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <thread>

#include "core/bf16.h"
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

namespace {

void Bf16Sum(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = FloatToBf16(Bf16ToFloat(a[i]) + Bf16ToFloat(b[i]));
}

// MPI counts are int: large buffers go in chunks.
constexpr size_t kMaxChunk = static_cast<size_t>(std::numeric_limits<int>::max() / 2);

void Check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw InternalError(std::string(what) + " failed: " + std::string(msg, len));
  }
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // The watchdog's arrival notices travel on their own communicator, apart from the data.
    MPI_Comm_dup(MPI_COMM_WORLD, &watch_);
    MPI_Op_create(&Bf16Sum, /*commute=*/1, &bf16_sum_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
      MPI_Op_free(&bf16_sum_);
      MPI_Comm_free(&watch_);
    }
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void AllreduceSum(float* data, size_t n) override { Reduce(data, n, MPI_FLOAT, MPI_SUM); }
  void AllreduceSum(double* data, size_t n) override { Reduce(data, n, MPI_DOUBLE, MPI_SUM); }
  void AllreduceMax(double* data, size_t n) override { Reduce(data, n, MPI_DOUBLE, MPI_MAX); }
  void StartAllreduceSum(float* data, size_t n) override {
    StartChunks(data, n, MPI_FLOAT, MPI_SUM);
  }
  void StartAllreduceSumBf16(uint16_t* data, size_t n) override {
    StartChunks(data, n, MPI_UINT16_T, bf16_sum_);
  }
  void Poll() override {
    if (pending_.empty()) return;
    int done = 0;
    Check(
        MPI_Testall(static_cast<int>(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE),
        "MPI_Testall");
    if (done) pending_.clear();
  }
  void WaitAll() override {
    for (MPI_Request& req : pending_)
      if (req != MPI_REQUEST_NULL) Wait(&req);
    pending_.clear();
  }
  std::vector<double> Allgather(double value) override {
    std::vector<double> all(size_);
    MPI_Request req;
    Check(MPI_Iallgather(&value, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, MPI_COMM_WORLD, &req),
          "MPI_Iallgather");
    Wait(&req);
    return all;
  }
  void Broadcast(float* data, size_t n, int root) override { Bcast(data, n, MPI_FLOAT, root); }
  void Broadcast(std::string* bytes, int root) override {
    unsigned long long len = bytes->size();
    Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, root);
    bytes->resize(len);
    Bcast(bytes->data(), len, MPI_CHAR, root);
  }
  void Barrier() override {
    MPI_Request req;
    Check(MPI_Ibarrier(MPI_COMM_WORLD, &req), "MPI_Ibarrier");
    Wait(&req);
  }
  [[noreturn]] void Abort(int code) override {
    // MPI_Abort hands the abort to the launcher's daemon, which tells every other node. With a
    // node cut off, that can sit in TCP retransmission for many minutes; this rank then still
    // ends after the grace, with the code it was asked to end with.
    std::thread([code] {
      std::this_thread::sleep_for(std::chrono::seconds(kAbortGraceSeconds));
      std::fprintf(stderr, "dpmlp: MPI_Abort did not end this rank within %d s; exiting %d\n",
                   kAbortGraceSeconds, code);
      std::fflush(stderr);
      std::_Exit(code);
    }).detach();
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }
  const char* backend() const override { return "open-mpi"; }

 protected:
  std::vector<std::string> GatherHostnames() override {
    char mine[MPI_MAX_PROCESSOR_NAME] = {};
    int len = 0;
    MPI_Get_processor_name(mine, &len);
    std::vector<char> all(static_cast<size_t>(size_) * MPI_MAX_PROCESSOR_NAME);
    MPI_Request req;
    Check(MPI_Iallgather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                         MPI_CHAR, MPI_COMM_WORLD, &req),
          "MPI_Iallgather");
    Wait(&req);
    std::vector<std::string> hosts;
    for (int r = 0; r < size_; ++r)
      hosts.emplace_back(
          &all[static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME],
          strnlen(&all[static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME], MPI_MAX_PROCESSOR_NAME));
    return hosts;
  }

 private:
  void Reduce(void* data, size_t n, MPI_Datatype type, MPI_Op op) {
    Chunked(data, n, type, [&](void* chunk, int count, MPI_Request* req) {
      Check(MPI_Iallreduce(MPI_IN_PLACE, chunk, count, type, op, MPI_COMM_WORLD, req),
            "MPI_Iallreduce");
    });
  }

  void StartChunks(void* data, size_t n, MPI_Datatype type, MPI_Op op) {
    int elem = 0;
    MPI_Type_size(type, &elem);
    for (size_t off = 0; off < n; off += kMaxChunk) {
      const int count = static_cast<int>(std::min(kMaxChunk, n - off));
      pending_.emplace_back();
      Check(MPI_Iallreduce(MPI_IN_PLACE, static_cast<char*>(data) + off * elem, count, type, op,
                           MPI_COMM_WORLD, &pending_.back()),
            "MPI_Iallreduce");
    }
  }

  void Bcast(void* data, size_t n, MPI_Datatype type, int root) {
    Chunked(data, n, type, [&](void* chunk, int count, MPI_Request* req) {
      Check(MPI_Ibcast(chunk, count, type, root, MPI_COMM_WORLD, req), "MPI_Ibcast");
    });
  }

  // Runs a collective over data in chunks of at most kMaxChunk elements (MPI counts are int),
  // each started by `start` and completed by Wait. n == 0 still joins one collective, so every
  // rank takes part even with nothing to add.
  template <typename Start>
  void Chunked(void* data, size_t n, MPI_Datatype type, const Start& start) {
    int elem = 0;
    MPI_Type_size(type, &elem);
    size_t off = 0;
    do {
      const int count = static_cast<int>(std::min(kMaxChunk, n - off));
      MPI_Request req;
      start(static_cast<char*>(data) + off * elem, count, &req);
      Wait(&req);
      off += static_cast<size_t>(count);
    } while (off < n);
  }

  // Completes a collective. With the watchdog on, polls it against the deadline: a rank that has
  // waited half the timeout tells every other rank that it arrived at collective #seq_, so at the
  // deadline each waiting rank knows who arrived and names the rest.
  void Wait(MPI_Request* req) {
    ++seq_;
    const double timeout = collective_timeout();
    if (timeout <= 0) {
      Check(MPI_Wait(req, MPI_STATUS_IGNORE), "MPI_Wait");
      return;
    }
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    bool notified = false;
    for (unsigned spin = 0;; ++spin) {
      int done = 0;
      Check(MPI_Test(req, &done, MPI_STATUS_IGNORE), "MPI_Test");
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

  // Receives pending arrival notices; marks in `arrived` the ranks that reached collective seq_
  // or a later one (a rank can finish its part of a collective and wait in the next).
  void DrainNotices(std::vector<bool>* arrived) {
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

  [[noreturn]] void Stalled(double waited) {
    // Polls are ~50 us apart, so a wait far past the deadline means this process itself was
    // suspended (e.g. SIGSTOP, then woken by the job's abort): it is the straggler, not a witness.
    if (waited > 1.5 * collective_timeout() + 1.0) {
      std::fprintf(stderr,
                   "[rank %d] dpmlp: error: this rank was suspended for about %.0f s at %s; ending "
                   "the job\n",
                   rank_, waited, WatchContext().c_str());
      std::fflush(stderr);
      Abort(kExitStalled);
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
      // Every peer arrived and gave up first: this rank came late (it was stopped or starved),
      // so it names itself, not an empty set of missing ranks.
      std::string others;
      for (int r = 0; r < size_; ++r)
        if (r != rank_) others += (others.empty() ? "" : ",") + std::to_string(r);
      std::fprintf(
          stderr,
          "[rank %d] dpmlp: error: collective timeout at %s: this rank arrived late; every "
          "other rank (%s) was waiting for it; ending the job\n",
          rank_, WatchContext().c_str(), others.c_str());
      std::fflush(stderr);
      Abort(kExitStalled);
    }
    std::fprintf(stderr,
                 "[rank %d] dpmlp: error: collective timeout at %s: waited %.0f s "
                 "(--collective-timeout) for "
                 "rank(s) %s that did not arrive (arrived: %s); lost: %s; ending the job\n",
                 rank_, WatchContext().c_str(), waited, missing.c_str(), present.c_str(),
                 RanksOnHosts(lost).c_str());
    std::fflush(stderr);
    Abort(kExitStalled);
  }

  static constexpr int kArrivedTag = 7;
  int rank_ = 0, size_ = 1;
  MPI_Comm watch_ = MPI_COMM_NULL;
  MPI_Op bf16_sum_ = MPI_OP_NULL;
  std::vector<MPI_Request> pending_;  // started by StartAllreduceSum*, completed by WaitAll
  long long seq_ = 0;
};

}  // namespace

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  ApplyOpenMpiDefaults();
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  // Errors come back as codes and become exceptions, so the launcher can name them.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiRuntime::~MpiRuntime() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::unique_ptr<Communicator> MpiRuntime::WorldCommunicator() {
  return std::make_unique<MpiCommunicator>();
}

}  // namespace dpmlp
