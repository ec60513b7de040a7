// The Communicator over Open MPI, for any MPI communicator: MPI_COMM_WORLD for the job (what
// MpiRuntime::WorldCommunicator makes), or a part of it such as the ranks of one node
// (MPI_Comm_split_type with MPI_COMM_TYPE_SHARED) or a shard group (MPI_Comm_split).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dist/collective_watchdog.h"
#include "dist/communicator.h"

namespace dpmlp {

class MpiCommunicator : public Communicator {
 public:
  // Works on `comm` itself, which must outlive this object; only the watchdog's notices get a
  // duplicate. Ranks and sizes are those of `comm`.
  explicit MpiCommunicator(MPI_Comm comm);
  ~MpiCommunicator() override;

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
  void Poll() override;
  void WaitAll() override;
  bool PrepareSharedSum(size_t n) override;
  float* SharedSlot() override;
  const float* SharedResult() const override;
  void SharedSum() override;
  void SumSharedSlots(size_t begin, size_t end, float* out) const override;
  float* SharedResultBlock() override;
  void SharedBarrier() override;
  void ReduceScatterSum(const float* in, float* out, const std::vector<size_t>& counts) override;
  void AllgatherInPlace(float* data, const std::vector<size_t>& counts) override;
  void StartAllgatherInPlace(float* data, const std::vector<size_t>& counts) override;
  std::vector<double> Allgather(double value) override;
  void Broadcast(float* data, size_t n, int root) override { Bcast(data, n, MPI_FLOAT, root); }
  void Broadcast(std::string* bytes, int root) override;
  void Barrier() override;
  [[noreturn]] void Abort(int code) override;
  const char* backend() const override { return "open-mpi"; }

 protected:
  std::vector<std::string> GatherHostnames() override;

 private:
  // Reduce: small messages at a power-of-two rank count by recursive doubling over point-to-point
  // messages (one exchange at 2 ranks, where Open MPI's ring iallreduce, which dpmlp sets for the
  // gradient, takes two; 1-16 KiB reached 49-70 % of the allreduce's alpha-beta trend with it),
  // the rest by MPI_Iallreduce.
  void Reduce(void* data, size_t n, MPI_Datatype type, MPI_Op op);
  void RecursiveDoubling(void* data, int n, MPI_Datatype type, MPI_Op op);
  static constexpr size_t kRecursiveDoublingBytes = size_t{64} << 10;
  void StartChunks(void* data, size_t n, MPI_Datatype type, MPI_Op op);
  void Bcast(void* data, size_t n, MPI_Datatype type, int root);
  // Runs a collective over data in chunks of at most kMaxChunk elements (MPI counts are int),
  // each started by `start` and completed by the watchdog. n == 0 still joins one collective, so
  // every rank takes part even with nothing to add.
  template <typename Start>
  void Chunked(void* data, size_t n, MPI_Datatype type, const Start& start);

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  CollectiveWatchdog watchdog_;
  MPI_Op bf16_sum_ = MPI_OP_NULL;
  std::vector<MPI_Request> pending_;  // started by StartAllreduceSum*, completed by WaitAll
  // PrepareSharedSum's window: p slots of n floats (one per rank) and the n-float sum.
  struct SharedWindow {
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Win win = MPI_WIN_NULL;
    float* base = nullptr;
    size_t n = 0;
    bool locked = false;  // MPI_Win_lock_all succeeded
  } shared_;
  void FreeSharedWindow();
  // The ring reduce-scatter's two receive buffers for its middle steps (p > 2), and its tag.
  std::vector<float> ring_[2];
  static constexpr int kRingTag = 7301;
  std::vector<char> small_;  // the partner's values in RecursiveDoubling
  struct IntShares {
    std::vector<size_t> of;      // the shares these are for
    std::vector<int> c, displs;  // MPI's counts and displacements
  } int_shares_;
  const IntShares& SharesFor(const std::vector<size_t>& counts);
  static constexpr int kSmallTag = 7302;
};

}  // namespace dpmlp
