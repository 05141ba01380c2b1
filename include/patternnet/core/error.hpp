#pragma once
// The exception hierarchy. Every user-facing precondition throws a subclass of
// patternnet::Error whose message names the function, the layer (index and type)
// and the expected vs. actual values, e.g.
//   "Sequential::forward(): layer 4 (Dense) expects 784 input features, got 783".

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace patternnet {

/// Base class of every exception thrown by patternnet.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A tensor, batch or layer chain has the wrong shape.
class ShapeError : public Error {
public:
  using Error::Error;
};

/// A hyper-parameter or option is invalid (e.g. alpha - beta != 1, a kernel of size 0).
class ConfigError : public Error {
public:
  using Error::Error;
};

/// A file (patterns, model, data set) is truncated, corrupt or of another version.
class FormatError : public Error {
public:
  using Error::Error;
};

/// NaN or Inf where a finite value is required (inputs, weights, backward quantities).
class NumericError : public Error {
public:
  using Error::Error;
};

namespace detail {

/// Throws `E` with an fmt-formatted message.
template <class E, class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw E(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace detail
}  // namespace patternnet
