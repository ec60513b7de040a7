#include "core/blas.h"

namespace dpmlp {

// OpenBLAS's cblas.h declares its thread-pool controls.
void SetBlasThreads(int threads) { openblas_set_num_threads(threads); }
int BlasThreads() { return openblas_get_num_threads(); }

}  // namespace dpmlp
