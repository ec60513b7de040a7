// Errors are exceptions carrying a message and the process exit code they map to.
// launcher/ turns them into exit codes; nothing below it calls exit().
#pragma once

#include <stdexcept>
#include <string>

namespace dpmlp {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,   // a bug
  kExitUsage = 2,      // bad usage, configuration or input data
  kExitDiverged = 3,   // non-finite loss or gradient
  kExitIo = 4,         // checkpoint or output I/O failed; earlier checkpoints intact
  kExitStalled = 5,    // a rank failed or stalled: the collective watchdog ended the job
  kExitPreempted = 75  // stopped by a signal after writing a checkpoint
};

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// An error that every rank of a job raises identically at the same point, so no rank is left
// waiting: the launcher exits with its code on every rank instead of aborting the job.
class CollectiveError : public Error {
 public:
  CollectiveError(int code, const std::string& msg) : Error(code, msg) {}
};

// Bad option, configuration or input file. The message names the option or file (and line).
inline Error UsageError(const std::string& msg) { return Error(kExitUsage, msg); }
// Output or checkpoint I/O failure.
inline Error IoError(const std::string& msg) { return Error(kExitIo, msg); }
// Training produced a non-finite loss or gradient.
inline Error DivergedError(const std::string& msg) { return Error(kExitDiverged, msg); }
// A broken invariant: a bug in dpmlp.
inline Error InternalError(const std::string& msg) { return Error(kExitInternal, msg); }

}  // namespace dpmlp
