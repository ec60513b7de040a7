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
  if (!finalized) MPI_Op_free(&bf16_sum_);
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
  Chunked(data, n, type, [&](void* chunk, int count, MPI_Request* req) {
    CheckMpi(MPI_Iallreduce(MPI_IN_PLACE, chunk, count, type, op, comm_, req), "MPI_Iallreduce");
  });
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
