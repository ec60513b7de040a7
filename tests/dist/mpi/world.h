// The MPI world communicator of the dist_mpi_tests binary, made once in its main()
// (mpi_test_main.cc), after MpiRuntime has initialised MPI.
#pragma once

#include "dist/communicator.h"

namespace dpmlp {
namespace mpi_test {

Communicator& World();

}  // namespace mpi_test
}  // namespace dpmlp
