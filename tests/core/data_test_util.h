// Helpers for the data-layer tests: a scratch directory and error-expectation matchers.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <system_error>

#include "core/error.h"

namespace dpmlp {
namespace testing_util {

// A fresh directory under $TMPDIR (or /tmp), removed with its files at scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/dpmlp_data_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  // Writes bytes to name and returns the full path.
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = File(name);
    std::ofstream out(p, std::ios::binary);
    out << bytes;
    EXPECT_TRUE(out.good()) << p;
    return p;
  }

 private:
  std::string path_;
};

// Runs f, expects a dpmlp::Error with exit code 2 whose message contains every fragment.
template <typename F>
void ExpectUsageError(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected a UsageError containing '" << *fragments.begin() << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitUsage) << e.what();
    for (const std::string& frag : fragments) {
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "message: " << e.what() << "\nmissing: " << frag;
    }
  }
}

}  // namespace testing_util
}  // namespace dpmlp
