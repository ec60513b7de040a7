// Shared by the libFuzzer harnesses: the readers under test take a path, so each input is written
// to a file in /dev/shm (memory, not disk) named after the process, so harnesses and -jobs=N
// workers never share a file.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace dpmlp_fuzz {

// /dev/shm/dpmlp-fuzz-<pid>-<tag>, removed at exit. Use as a function-local static.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& tag)
      : path_("/dev/shm/dpmlp-fuzz-" + std::to_string(::getpid()) + "-" + tag) {}
  ~ScratchFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Replaces the file at `path` with `size` bytes from `data`; aborts if it cannot (a harness bug).
inline void WriteScratch(const std::string& path, const void* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

// A property of a successful read does not hold: a bug, reported as a crash with `what`.
inline void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace dpmlp_fuzz
