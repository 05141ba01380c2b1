#pragma once
// The workspace: large matrix buffers reused across layers, passes and calls.
//
// A recorded forward pass and its backward pass allocate the same large matrices on every
// call (activations, backward quantities, patch blocks). Freed to the C allocator, they go
// back to the operating system and come back as fresh pages, page-faulted in again on the
// next call: on cnn b256 that was about two thirds of the time of a gradient
// (docs/benchmarks.md). Instead, the library hands a dying buffer to this thread's
// workspace, and takes the next matrix of the same number of values from it.
//
// Per thread and scalar type; only buffers of at least kMinBytes; at most limit() bytes
// kept (the oldest released buffer goes first). Contents of a matrix taken from the
// workspace are unspecified, as those of Eigen's uninitialised constructor.

#include <patternnet/core/batch.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace patternnet {

namespace detail {

inline std::atomic<std::size_t>& workspace_limit_bytes() {
  static std::atomic<std::size_t> limit{std::size_t{1} << 30};
  return limit;
}

/// The buffers one thread keeps for one scalar type.
template <class S>
class MatrixPool {
public:
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  /// Buffers smaller than this are left to the C allocator (which reuses them well).
  static constexpr std::size_t kMinBytes = std::size_t{1} << 16;

  static MatrixPool& local() {
    static thread_local MatrixPool pool;
    return pool;
  }

  /// A rows x cols matrix, from a kept buffer of that many values if there is one.
  [[nodiscard]] M take(Index rows, Index cols) {
    const Index n = rows * cols;
    if (bytes(n) >= kMinBytes) {
      for (std::size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].size() != n) continue;
        M m = std::move(free_[i]);
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        kept_ -= bytes(n);
        m.resize(rows, cols);  // same number of values: no reallocation
        return m;
      }
    }
    return M(rows, cols);
  }

  /// Keeps m's buffer for a later take() (m is left empty).
  void give(M&& m) {
    const std::size_t b = bytes(m.size()), limit = workspace_limit_bytes().load(std::memory_order_relaxed);
    if (b < kMinBytes || b > limit) {
      m = M();
      return;
    }
    while (kept_ + b > limit) {  // the oldest first
      kept_ -= bytes(free_.front().size());
      free_.erase(free_.begin());
    }
    free_.push_back(std::move(m));
    kept_ += b;
  }

  void clear() noexcept {
    free_.clear();
    kept_ = 0;
  }
  [[nodiscard]] std::size_t kept_bytes() const noexcept { return kept_; }

private:
  static std::size_t bytes(Index n) noexcept { return static_cast<std::size_t>(n) * sizeof(S); }

  std::vector<M> free_;  // in order of release
  std::size_t kept_ = 0;
};

}  // namespace detail

namespace workspace {

/// A rows x cols matrix with unspecified contents, reusing a kept buffer if one fits.
template <class S>
[[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> matrix(Index rows, Index cols) {
  return detail::MatrixPool<S>::local().take(rows, cols);
}

/// A matrix holding the value of an Eigen expression, in a kept buffer if one fits.
template <class E>
[[nodiscard]] auto evaluate(const Eigen::MatrixBase<E>& e) {
  auto m = matrix<typename E::Scalar>(e.rows(), e.cols());
  m = e;
  return m;
}

/// Hands m's buffer to this thread's workspace; m is left empty.
template <class S>
void recycle(Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>& m) {
  detail::MatrixPool<S>::local().give(std::move(m));
}

/// The most bytes the workspace of one thread keeps per scalar type (default 1 GiB; 0
/// keeps nothing: every matrix is then a fresh allocation). Applies to all threads.
inline void set_limit(std::size_t bytes) noexcept {
  detail::workspace_limit_bytes().store(bytes, std::memory_order_relaxed);
}
[[nodiscard]] inline std::size_t limit() noexcept {
  return detail::workspace_limit_bytes().load(std::memory_order_relaxed);
}

/// Frees the buffers the calling thread's workspace keeps.
inline void clear() noexcept {
  detail::MatrixPool<float>::local().clear();
  detail::MatrixPool<double>::local().clear();
  detail::MatrixPool<Index>::local().clear();
}

/// The bytes the calling thread's workspace keeps (all scalar types).
[[nodiscard]] inline std::size_t kept_bytes() noexcept {
  return detail::MatrixPool<float>::local().kept_bytes() + detail::MatrixPool<double>::local().kept_bytes() +
         detail::MatrixPool<Index>::local().kept_bytes();
}

/// A matrix that hands its buffer to the workspace when it goes out of scope: for the
/// large temporaries of a hook.
template <class S>
class Scratch {
public:
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  Scratch(Index rows, Index cols) : m_(matrix<S>(rows, cols)) {}
  explicit Scratch(M&& m) noexcept : m_(std::move(m)) {}
  template <class E>
  explicit Scratch(const Eigen::MatrixBase<E>& e) : m_(evaluate(e)) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { recycle(m_); }

  [[nodiscard]] M& operator*() noexcept { return m_; }
  [[nodiscard]] const M& operator*() const noexcept { return m_; }
  [[nodiscard]] M* operator->() noexcept { return &m_; }
  [[nodiscard]] const M* operator->() const noexcept { return &m_; }

private:
  M m_;
};

template <class E>
Scratch(const Eigen::MatrixBase<E>&) -> Scratch<typename E::Scalar>;

}  // namespace workspace

}  // namespace patternnet
