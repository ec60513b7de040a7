#include "dist/mpi_communicator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

#include "core/bf16.h"
#include "core/error.h"
#include "dist/shard.h"

namespace dpmlp {

namespace {

void Bf16Sum(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = FloatToBf16(Bf16ToFloat(a[i]) + Bf16ToFloat(b[i]));
}

// MPI counts are int: large buffers go in chunks.
constexpr size_t kMaxChunk = static_cast<size_t>(std::numeric_limits<int>::max() / 2);

int RankIn(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

int SizeOf(MPI_Comm comm) {
  int n = 1;
  MPI_Comm_size(comm, &n);
  return n;
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm)
    : comm_(comm), rank_(RankIn(comm)), size_(SizeOf(comm)), watchdog_(*this, comm) {
  MPI_Op_create(&Bf16Sum, /*commute=*/1, &bf16_sum_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  FreeSharedWindow();
  MPI_Op_free(&bf16_sum_);
}

void MpiCommunicator::FreeSharedWindow() {
  if (shared_.locked) MPI_Win_unlock_all(shared_.win);
  if (shared_.win != MPI_WIN_NULL) MPI_Win_free(&shared_.win);
  if (shared_.node != MPI_COMM_NULL) MPI_Comm_free(&shared_.node);
  shared_ = SharedWindow{};
}

bool MpiCommunicator::PrepareSharedSum(size_t n) {
  if (shared_.win != MPI_WIN_NULL && shared_.n == n) return true;
  FreeSharedWindow();
  if (size_ == 1 || n == 0) return false;
  CheckMpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &shared_.node),
           "MPI_Comm_split_type");
  // Every rank sees the same answer: either the node holds the whole world, or no node does.
  bool ok = SizeOf(shared_.node) == size_;
  if (ok) {
    // Rank 0 allocates the whole window (one contiguous block); the others map it. An allocation
    // that fails (a small /dev/shm) returns an error instead of ending the job, and every rank
    // learns of it below.
    MPI_Comm_set_errhandler(shared_.node, MPI_ERRORS_RETURN);
    const MPI_Aint bytes = rank_ == 0 ? static_cast<MPI_Aint>((size_ + 1) * n * sizeof(float)) : 0;
    float* mine = nullptr;
    ok = MPI_Win_allocate_shared(bytes, sizeof(float), MPI_INFO_NULL, shared_.node, &mine,
                                 &shared_.win) == MPI_SUCCESS;
    MPI_Aint size = 0;
    int disp = 0;
    ok = ok && MPI_Win_shared_query(shared_.win, 0, &size, &disp, &shared_.base) == MPI_SUCCESS;
    ok = ok && MPI_Win_lock_all(MPI_MODE_NOCHECK, shared_.win) == MPI_SUCCESS;
    shared_.locked = ok;
  }
  for (double each : Allgather(ok ? 1.0 : 0.0)) ok = ok && each > 0;
  if (!ok) {
    FreeSharedWindow();
    return false;
  }
  shared_.n = n;
  return true;
}

float* MpiCommunicator::SharedSlot() {
  return shared_.base ? shared_.base + static_cast<size_t>(rank_) * shared_.n : nullptr;
}

void MpiCommunicator::SumSharedSlots(size_t begin, size_t end, float* out) const {
  if (shared_.win == MPI_WIN_NULL) throw InternalError("SumSharedSlots without PrepareSharedSum");
  const size_t n = shared_.n, len = end - begin;
  const float* first = shared_.base + begin;  // slot r: rank r's buffer, at r * n
  const float* second = first + n;
  for (size_t i = 0; i < len; ++i) out[i] = first[i] + second[i];
  for (int r = 2; r < size_; ++r) {
    const float* in = first + static_cast<size_t>(r) * n;
    for (size_t i = 0; i < len; ++i) out[i] += in[i];
  }
}

const float* MpiCommunicator::SharedResult() const {
  return shared_.base ? shared_.base + static_cast<size_t>(size_) * shared_.n : nullptr;
}

float* MpiCommunicator::SharedResultBlock() {
  return shared_.base ? shared_.base + static_cast<size_t>(size_) * shared_.n : nullptr;
}

void MpiCommunicator::SharedBarrier() {
  MPI_Win_sync(shared_.win);
  MPI_Request req;
  CheckMpi(MPI_Ibarrier(comm_, &req), "MPI_Ibarrier");
  watchdog_.Wait(&req);
  MPI_Win_sync(shared_.win);
}

void MpiCommunicator::SharedSum() {
  if (shared_.win == MPI_WIN_NULL) throw InternalError("SharedSum without PrepareSharedSum");
  const size_t n = shared_.n;
  float* sum = shared_.base + static_cast<size_t>(size_) * n;
  // Two barriers: every slot is written before any rank sums, and every share of the sum is
  // written before any rank reads it. Nothing is overwritten while another rank still needs it: a
  // rank writes its slot for the next step only after the second barrier (when every share has
  // been summed), and a rank passes the next first barrier, after which the result block is
  // rewritten, only when every rank has finished with this sum and started its next step.
  SharedBarrier();
  const ShardRange share = ShardRange::Of(static_cast<int64_t>(n), rank_, size_);
  SumSharedSlots(share.begin, share.end, sum + share.begin);
  SharedBarrier();
}

// MPI's int counts and displacements of the shares, remembered while the shares stay the same (the
// sharded update passes the same ones every step); throws when a share exceeds an int.
const MpiCommunicator::IntShares& MpiCommunicator::SharesFor(const std::vector<size_t>& counts) {
  if (int_shares_.of == counts) return int_shares_;
  IntShares made;
  size_t off = 0;
  for (size_t n : counts) {
    if (n > kMaxChunk || off > kMaxChunk)
      throw InternalError("a share of " + std::to_string(n) + " floats at " + std::to_string(off) +
                          " is beyond MPI's int counts");
    made.c.push_back(static_cast<int>(n));
    made.displs.push_back(static_cast<int>(off));
    off += n;
  }
  made.of = counts;
  int_shares_ = std::move(made);
  return int_shares_;
}

// Ring reduce-scatter and allgather over point-to-point messages: p - 1 steps, each sending one
// share to the next rank and receiving one from the previous, so every rank sends (p - 1) / p of
// the data per phase, as the ring allreduce does. Open MPI 4.1's MPI_Ireduce_scatter and
// MPI_Iallgatherv (libnbc) took 1.5-1.7x the ring allreduce's time for the two phases together
// (np 2, 0.26-46.5 MB, shared memory and TCP), where the ring needs the same.
void MpiCommunicator::ReduceScatterSum(const float* in, float* out,
                                       const std::vector<size_t>& counts) {
  const IntShares& shares = SharesFor(counts);
  const std::vector<int>&c = shares.c, &displs = shares.displs;
  const int p = size_, next = (rank_ + 1) % p, prev = (rank_ + p - 1) % p;
  if (p == 1) {
    std::copy(in, in + c[0], out);
    return;
  }
  // Step s sends the running sum of share (rank - 1 - s) and receives that of share (rank - 2 - s),
  // to which this rank adds its own part; at the last step that share is this rank's own, received
  // straight into `out`. Earlier steps (p > 2) receive into two buffers in turn.
  const float* send = in + displs[prev];
  for (int s = 0; s + 1 < p; ++s) {
    const int give = (rank_ + 2 * p - 1 - s) % p, take = (rank_ + 2 * p - 2 - s) % p;
    std::vector<float>& temp = ring_[s % 2];
    if (s + 2 < p && temp.size() < counts[take]) temp.resize(counts[take]);
    float* got = s + 2 == p ? out : temp.data();
    MPI_Request req[2];
    CheckMpi(MPI_Irecv(got, c[take], MPI_FLOAT, prev, kRingTag, comm_, &req[0]), "MPI_Irecv");
    CheckMpi(MPI_Isend(send, c[give], MPI_FLOAT, next, kRingTag, comm_, &req[1]), "MPI_Isend");
    watchdog_.Wait(&req[0]);
    watchdog_.Wait(&req[1]);
    const float* mine = in + displs[take];
    for (int i = 0; i < c[take]; ++i) got[i] += mine[i];
    send = got;
  }
}

void MpiCommunicator::AllgatherInPlace(float* data, const std::vector<size_t>& counts) {
  const IntShares& shares = SharesFor(counts);
  const std::vector<int>&c = shares.c, &displs = shares.displs;
  const int p = size_, next = (rank_ + 1) % p, prev = (rank_ + p - 1) % p;
  // Step s passes share (rank - s) on and receives share (rank - s - 1), each into its place.
  for (int s = 0; s + 1 < p; ++s) {
    const int give = (rank_ + p - s) % p, take = (rank_ + 2 * p - s - 1) % p;
    MPI_Request req[2];
    CheckMpi(MPI_Irecv(data + displs[take], c[take], MPI_FLOAT, prev, kRingTag, comm_, &req[0]),
             "MPI_Irecv");
    CheckMpi(MPI_Isend(data + displs[give], c[give], MPI_FLOAT, next, kRingTag, comm_, &req[1]),
             "MPI_Isend");
    watchdog_.Wait(&req[0]);
    watchdog_.Wait(&req[1]);
  }
}

// Started and left pending: at 2 ranks the ring's one step (a receive and a send), at more ranks
// Open MPI's MPI_Iallgatherv (the ring's later steps would have to wait for the earlier ones).
void MpiCommunicator::StartAllgatherInPlace(float* data, const std::vector<size_t>& counts) {
  const IntShares& shares = SharesFor(counts);
  const std::vector<int>&c = shares.c, &displs = shares.displs;
  if (size_ == 1) return;
  if (size_ == 2) {
    const int other = 1 - rank_;
    pending_.emplace_back();
    CheckMpi(MPI_Irecv(data + displs[other], c[other], MPI_FLOAT, other, kRingTag, comm_,
                       &pending_.back()),
             "MPI_Irecv");
    pending_.emplace_back();
    CheckMpi(MPI_Isend(data + displs[rank_], c[rank_], MPI_FLOAT, other, kRingTag, comm_,
                       &pending_.back()),
             "MPI_Isend");
    return;
  }
  pending_.emplace_back();
  CheckMpi(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, c.data(), displs.data(),
                           MPI_FLOAT, comm_, &pending_.back()),
           "MPI_Iallgatherv");
}

void MpiCommunicator::Poll() {
  if (pending_.empty()) return;
  int done = 0;
  CheckMpi(
      MPI_Testall(static_cast<int>(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE),
      "MPI_Testall");
  if (done) pending_.clear();
}

void MpiCommunicator::WaitAll() {
  for (MPI_Request& req : pending_)
    if (req != MPI_REQUEST_NULL) watchdog_.Wait(&req);
  pending_.clear();
}

std::vector<double> MpiCommunicator::Allgather(double value) {
  std::vector<double> all(size_);
  MPI_Request req;
  CheckMpi(MPI_Iallgather(&value, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, comm_, &req),
           "MPI_Iallgather");
  watchdog_.Wait(&req);
  return all;
}

void MpiCommunicator::Broadcast(std::string* bytes, int root) {
  unsigned long long len = bytes->size();
  Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, root);
  bytes->resize(len);
  Bcast(bytes->data(), len, MPI_CHAR, root);
}

void MpiCommunicator::Barrier() {
  MPI_Request req;
  CheckMpi(MPI_Ibarrier(comm_, &req), "MPI_Ibarrier");
  watchdog_.Wait(&req);
}

void MpiCommunicator::Abort(int code) {
  // MPI_Abort hands the abort to the launcher's daemon, which tells every other node. With a node
  // cut off, that can sit in TCP retransmission for many minutes; this rank then still ends after
  // the grace, with the code it was asked to end with.
  std::thread([code] {
    std::this_thread::sleep_for(std::chrono::seconds(kAbortGraceSeconds));
    std::fprintf(stderr, "dpmlp: MPI_Abort did not end this rank within %d s; exiting %d\n",
                 kAbortGraceSeconds, code);
    std::fflush(stderr);
    std::_Exit(code);
  }).detach();
  MPI_Abort(comm_, code);
  std::_Exit(code);
}

std::vector<std::string> MpiCommunicator::GatherHostnames() {
  char mine[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(mine, &len);
  std::vector<char> all(static_cast<size_t>(size_) * MPI_MAX_PROCESSOR_NAME);
  MPI_Request req;
  CheckMpi(MPI_Iallgather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(),
                          MPI_MAX_PROCESSOR_NAME, MPI_CHAR, comm_, &req),
           "MPI_Iallgather");
  watchdog_.Wait(&req);
  std::vector<std::string> hosts;
  for (int r = 0; r < size_; ++r) {
    const char* name = &all[static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME];
    hosts.emplace_back(name, strnlen(name, MPI_MAX_PROCESSOR_NAME));
  }
  return hosts;
}

void MpiCommunicator::Reduce(void* data, size_t n, MPI_Datatype type, MPI_Op op) {
  int elem = 0;
  MPI_Type_size(type, &elem);
  if (size_ > 1 && (size_ & (size_ - 1)) == 0 && n * elem <= kRecursiveDoublingBytes) {
    RecursiveDoubling(data, static_cast<int>(n), type, op);
    return;
  }
  Chunked(data, n, type, [&](void* chunk, int count, MPI_Request* req) {
    CheckMpi(MPI_Iallreduce(MPI_IN_PLACE, chunk, count, type, op, comm_, req), "MPI_Iallreduce");
  });
}

// log2(p) exchanges with the partner rank ^ 2^k, each adding the partner's partial result. Both
// partners compute a op b from the same two values (the ops are commutative: a + b is b + a bit
// for bit), so every rank ends with the same bits.
void MpiCommunicator::RecursiveDoubling(void* data, int n, MPI_Datatype type, MPI_Op op) {
  int elem = 0;
  MPI_Type_size(type, &elem);
  small_.resize(static_cast<size_t>(n) * elem);
  for (int mask = 1; mask < size_; mask <<= 1) {
    const int partner = rank_ ^ mask;
    MPI_Request req[2];
    CheckMpi(MPI_Irecv(small_.data(), n, type, partner, kSmallTag, comm_, &req[0]), "MPI_Irecv");
    CheckMpi(MPI_Isend(data, n, type, partner, kSmallTag, comm_, &req[1]), "MPI_Isend");
    watchdog_.Wait(&req[0]);
    watchdog_.Wait(&req[1]);
    CheckMpi(MPI_Reduce_local(small_.data(), data, n, type, op), "MPI_Reduce_local");
  }
}

void MpiCommunicator::StartChunks(void* data, size_t n, MPI_Datatype type, MPI_Op op) {
  int elem = 0;
  MPI_Type_size(type, &elem);
  for (size_t off = 0; off < n; off += kMaxChunk) {
    const int count = static_cast<int>(std::min(kMaxChunk, n - off));
    pending_.emplace_back();
    CheckMpi(MPI_Iallreduce(MPI_IN_PLACE, static_cast<char*>(data) + off * elem, count, type, op,
                            comm_, &pending_.back()),
             "MPI_Iallreduce");
  }
}

void MpiCommunicator::Bcast(void* data, size_t n, MPI_Datatype type, int root) {
  Chunked(data, n, type, [&](void* chunk, int count, MPI_Request* req) {
    CheckMpi(MPI_Ibcast(chunk, count, type, root, comm_, req), "MPI_Ibcast");
  });
}

template <typename Start>
void MpiCommunicator::Chunked(void* data, size_t n, MPI_Datatype type, const Start& start) {
  int elem = 0;
  MPI_Type_size(type, &elem);
  size_t off = 0;
  do {
    const int count = static_cast<int>(std::min(kMaxChunk, n - off));
    MPI_Request req;
    start(static_cast<char*>(data) + off * elem, count, &req);
    watchdog_.Wait(&req);
    off += static_cast<size_t>(count);
  } while (off < n);
}

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
  return std::make_unique<MpiCommunicator>(MPI_COMM_WORLD);
}

}  // namespace dpmlp
