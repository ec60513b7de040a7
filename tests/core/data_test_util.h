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
#include "tests/temp_dir.h"

namespace dpmlp {
namespace testing_util {

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
