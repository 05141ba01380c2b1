#pragma once
// The command-line tool's error classes: a UsageError (a bad invocation: unknown method,
// option missing, values out of range) exits with status 2; every other failure
// (a patternnet::Error from a file, a shape that does not fit) exits with status 1.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace patternnet::cli {

class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void usage_error(fmt::format_string<Args...> format, Args&&... args) {
  throw UsageError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace patternnet::cli
