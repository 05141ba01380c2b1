#pragma once
// Sources of batches for one-pass algorithms (pattern fitting, moments, rho): any input
// range whose elements convert to Batch<T> (a std::vector<Batch<T>>, or batches() below).

#include <patternnet/core/batch.hpp>

#include <algorithm>
#include <iterator>
#include <ranges>

namespace patternnet {

template <class S, class T>
concept BatchSource = std::ranges::input_range<S> &&
                      std::convertible_to<std::ranges::range_reference_t<S>, const Batch<T>&>;

/// A view of a data set as consecutive batches of `size` samples (the last may be
/// smaller). Each element is a fresh Batch holding a copy of its columns. (A view_base, not
/// a view_interface: clang 14 with libstdc++ 12 cannot instantiate view_interface for it.)
template <class T>
class BatchView : public std::ranges::view_base {
public:
  BatchView(const Batch<T>& data, Index size) : data_(&data), size_(size) {
    if (size < 1) detail::fail<ConfigError>("batches(): batch size must be >= 1, got {}", size);
  }

  class iterator {
  public:
    using value_type = Batch<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const Batch<T>* data, Index size, Index start) : data_(data), size_(size), start_(start) {}
    [[nodiscard]] Batch<T> operator*() const {
      const Index n = std::min(size_, data_->size() - start_);
      return Batch<T>(data_->shape, Matrix<T>(data_->data.middleCols(start_, n)));
    }
    iterator& operator++() {
      start_ += size_;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.start_ >= it.data_->size(); }

  private:
    const Batch<T>* data_ = nullptr;
    Index size_ = 1;
    Index start_ = 0;
  };

  [[nodiscard]] iterator begin() const { return iterator(data_, size_, 0); }
  [[nodiscard]] std::default_sentinel_t end() const { return {}; }
  /// Total number of samples (for progress reports).
  [[nodiscard]] Index samples() const noexcept { return data_->size(); }

private:
  const Batch<T>* data_;
  Index size_;
};

/// Splits a data set (kept alive by the caller) into batches of `size` samples.
template <class T>
[[nodiscard]] BatchView<T> batches(const Batch<T>& data, Index size) {
  return BatchView<T>(data, size);
}
/// Not for temporaries: the view would outlive the data.
template <class T>
void batches(const Batch<T>&& data, Index size) = delete;

/// Number of samples in a source, or -1 if it cannot tell without iterating.
template <class S>
[[nodiscard]] Index source_samples(const S& source) {
  if constexpr (requires { source.samples(); }) {
    return source.samples();
  } else if constexpr (std::ranges::sized_range<S> && requires { std::ranges::begin(source)->size(); }) {
    Index total = 0;
    for (const auto& b : source) total += b.size();
    return total;
  } else {
    return -1;
  }
}

}  // namespace patternnet
