#include "dist/communicator.h"

#include <mpi.h>

#include <cstdlib>
#include <limits>

#include "core/error.h"

namespace dpmlp {

void LocalCommunicator::Abort(int code) { std::_Exit(code); }

bool LaunchedByMpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

namespace {

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
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void AllreduceSum(float* data, size_t n) override { Reduce(data, n, MPI_FLOAT, MPI_SUM); }
  void AllreduceSum(double* data, size_t n) override { Reduce(data, n, MPI_DOUBLE, MPI_SUM); }
  void AllreduceMax(double* data, size_t n) override { Reduce(data, n, MPI_DOUBLE, MPI_MAX); }
  std::vector<double> Allgather(double value) override {
    std::vector<double> all(size_);
    Check(MPI_Allgather(&value, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, MPI_COMM_WORLD),
          "MPI_Allgather");
    return all;
  }
  void Broadcast(float* data, size_t n, int root) override {
    for (size_t off = 0; off < n; off += kMaxChunk)
      Check(MPI_Bcast(data + off, static_cast<int>(std::min(kMaxChunk, n - off)), MPI_FLOAT, root,
                      MPI_COMM_WORLD),
            "MPI_Bcast");
  }
  void Broadcast(std::string* bytes, int root) override {
    unsigned long long len = bytes->size();
    Check(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
    bytes->resize(len);
    for (size_t off = 0; off < len; off += kMaxChunk)
      Check(MPI_Bcast(bytes->data() + off, static_cast<int>(std::min<size_t>(kMaxChunk, len - off)),
                      MPI_CHAR, root, MPI_COMM_WORLD),
            "MPI_Bcast");
  }
  void Barrier() override { Check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  [[noreturn]] void Abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }
  const char* backend() const override { return "open-mpi"; }

 private:
  void Reduce(void* data, size_t n, MPI_Datatype type, MPI_Op op) {
    int elem = 0;
    MPI_Type_size(type, &elem);
    if (n == 0) {
      // Every rank takes part even with nothing to add, so collectives stay matched.
      Check(MPI_Allreduce(MPI_IN_PLACE, data, 0, type, op, MPI_COMM_WORLD), "MPI_Allreduce");
      return;
    }
    for (size_t off = 0; off < n; off += kMaxChunk)
      Check(MPI_Allreduce(MPI_IN_PLACE, static_cast<char*>(data) + off * elem,
                          static_cast<int>(std::min(kMaxChunk, n - off)), type, op, MPI_COMM_WORLD),
            "MPI_Allreduce");
  }
  int rank_ = 0, size_ = 1;
};

}  // namespace

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
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
