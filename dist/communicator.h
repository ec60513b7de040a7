// What the trainer needs from the other ranks, and no more. Two implementations: Open MPI over any
// MPI communicator (dist/mpi_communicator.h) and a world of one for single-process runs (no MPI
// at all). This header needs no mpi.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpmlp {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In-place element-wise sum over all ranks; n may be 0 (every rank still takes part).
  virtual void AllreduceSum(float* data, size_t n) = 0;
  virtual void AllreduceSum(double* data, size_t n) = 0;
  // In-place element-wise maximum over all ranks.
  virtual void AllreduceMax(double* data, size_t n) = 0;
  // Nonblocking in-place sums, for overlapping the gradient allreduce with backward: each returns
  // at once; Poll lets the outstanding ones progress (Open MPI moves a nonblocking collective only
  // inside MPI calls); WaitAll completes them all. Every rank must start the same sums in the same
  // order. The bf16 form sums bfloat16 values (the upper half of a float, round to nearest even).
  virtual void StartAllreduceSum(float* data, size_t n) = 0;
  virtual void StartAllreduceSumBf16(uint16_t* data, size_t n) = 0;
  virtual void Poll() = 0;
  virtual void WaitAll() = 0;
  // A float sum over ranks through one shared-memory window on the host (MPI-3
  // MPI_Win_allocate_shared), without a copy: each rank writes its n floats straight into its
  // slot of the window (SharedSlot), SharedSum sums, after a barrier, this rank's 1/p share of
  // every slot in rank order into the window's result block, and after a second barrier every
  // rank reads the whole sum there (SharedResult) until its next SharedSum. PrepareSharedSum(n)
  // is collective and says, the same on every rank, whether that path is open: every rank on one
  // host and the window allocated (false for one rank, for a world that spans hosts, and where
  // the window cannot be made). At 2 ranks the sums are bitwise those of AllreduceSum (a + b
  // either way).
  virtual bool PrepareSharedSum(size_t /*n*/) { return false; }
  virtual float* SharedSlot() { return nullptr; }
  virtual const float* SharedResult() const { return nullptr; }
  virtual void SharedSum() {}
  // The window's parts for a caller that sums its own way (the sharded update): the sum of every
  // rank's slot over [begin, end) into out, in rank order (SharedSum's arithmetic), the result
  // block (writable), and the barrier SharedSum uses (it also makes the window's writes before it
  // visible to every rank after it).
  virtual void SumSharedSlots(size_t /*begin*/, size_t /*end*/, float* /*out*/) const {}
  virtual float* SharedResultBlock() { return nullptr; }
  virtual void SharedBarrier() {}
  // The sharded update's collectives. Rank r's share is counts[r] consecutive elements, the shares
  // in rank order. ReduceScatterSum: `out` (counts[rank] floats) gets this rank's share of the
  // element-wise sum of every rank's `in` (the sum of all counts). AllgatherInPlace: every rank's
  // share of `data`, at its place, reaches every rank.
  virtual void ReduceScatterSum(const float* in, float* out, const std::vector<size_t>& counts) = 0;
  virtual void AllgatherInPlace(float* data, const std::vector<size_t>& counts) = 0;
  // The same allgather, started and left pending: Poll moves it on, WaitAll completes it (with
  // any other pending sums); `data` must not be read or written until then.
  virtual void StartAllgatherInPlace(float* data, const std::vector<size_t>& counts) = 0;
  // Every rank's value, indexed by rank.
  virtual std::vector<double> Allgather(double value) = 0;
  // Copies root's buffer to every rank.
  virtual void Broadcast(float* data, size_t n, int root) = 0;
  virtual void Broadcast(std::string* bytes, int root) = 0;
  virtual void Barrier() = 0;
  // Ends every rank of the job at once with this exit code (never returns). When the launcher
  // cannot be reached (MPI_Abort blocked on a lost node), the process still ends after
  // kAbortGraceSeconds, with the same code.
  [[noreturn]] virtual void Abort(int code) = 0;
  // "open-mpi" or "local"; for logs.
  virtual const char* backend() const = 0;
  // "rank 1 on node2, rank 3 on node4" for the given ranks; "?" for the host until Hostnames()
  // has been called (dpmlp train does that at start).
  std::string RanksOnHosts(const std::vector<int>& ranks) const;

  // Collective watchdog (dist/collective_watchdog.h): when seconds > 0, a rank that waits longer
  // than that in a collective prints which ranks did not arrive, naming where it was ("step 1234":
  // the label and, when not negative, the number last set), and aborts the job with
  // kExitStalled. 0 turns it off. `label` must outlive its use (a string literal).
  void SetCollectiveTimeout(double seconds) { timeout_ = seconds; }
  double collective_timeout() const { return timeout_; }
  void SetWatchContext(const char* label, int64_t number = -1) { label_ = label, number_ = number; }
  std::string WatchContext() const {
    if (!*label_) return "a collective";
    return number_ >= 0 ? std::string(label_) + " " + std::to_string(number_) : label_;
  }

  // Every rank's host name, indexed by rank: a collective the first time, then remembered.
  const std::vector<std::string>& Hostnames() {
    if (hosts_.empty()) hosts_ = GatherHostnames();
    return hosts_;
  }

 protected:
  virtual std::vector<std::string> GatherHostnames() = 0;

 private:
  std::vector<std::string> hosts_;
  double timeout_ = 0.0;
  const char* label_ = "";
  int64_t number_ = -1;
};

// A world of one rank: collectives are identities.
class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void AllreduceSum(float*, size_t) override {}
  void AllreduceSum(double*, size_t) override {}
  void AllreduceMax(double*, size_t) override {}
  void StartAllreduceSum(float*, size_t) override {}
  void StartAllreduceSumBf16(uint16_t*, size_t) override {}
  void Poll() override {}
  void WaitAll() override {}
  std::vector<double> Allgather(double value) override { return {value}; }
  void ReduceScatterSum(const float* in, float* out, const std::vector<size_t>& counts) override;
  void AllgatherInPlace(float*, const std::vector<size_t>&) override {}
  void StartAllgatherInPlace(float*, const std::vector<size_t>&) override {}
  void Broadcast(float*, size_t, int) override {}
  void Broadcast(std::string*, int) override {}
  void Barrier() override {}
  [[noreturn]] void Abort(int code) override;
  const char* backend() const override { return "local"; }

 protected:
  std::vector<std::string> GatherHostnames() override;
};

constexpr int kAbortGraceSeconds = 10;

// One line for the log: the world size, the hosts in order of their first rank, and each host's
// ranks, e.g. "placement: world size 4 on 2 hosts: node1 ranks 0-1 (2), node2 ranks 2-3 (2)".
std::string DescribePlacement(const std::vector<std::string>& hosts);

// True when this process was started by an MPI launcher (mpirun, srun with PMI/PMIx).
bool LaunchedByMpi();

// Open MPI parameters dpmlp sets before MPI_Init, each only when the environment does not already
// set it (`mpirun --mca NAME VALUE` and OMPI_MCA_NAME both do), and none when
// DPMLP_MPI_DEFAULTS=off. They make the gradient allreduce about 2-3x faster on the machine of
// docs/performance.md.
struct MpiDefault {
  const char* name;
  const char* value;
};
const std::vector<MpiDefault>& OpenMpiDefaults();
// Sets the defaults above into this process's environment; returns the names it set.
std::vector<std::string> ApplyOpenMpiDefaults();

// Owns MPI_Init_thread / MPI_Finalize: one per process, created first in main() when
// LaunchedByMpi(), destroyed last. Makes the MPI communicator.
class MpiRuntime {
 public:
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;
  std::unique_ptr<Communicator> WorldCommunicator();
};

}  // namespace dpmlp
