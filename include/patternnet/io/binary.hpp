#pragma once
// Little-endian binary records with a checksum, read fully validated and written
// atomically: the shared machinery of patternnet's file formats (pattern and model files).
//
// A file is: the payload bytes, then an 8-byte FNV-1a 64 checksum of the payload.
// Writing goes to "<path>.tmp-<random>" in the same directory, flushed and renamed over
// <path>, so a reader never sees a half-written file and a failed write leaves the old
// file in place. Replacing a file keeps its permissions; a read-only file or a directory
// is refused (Error, nothing written); a symbolic link is followed: the file it points to
// is replaced and the link stays.

#include <patternnet/core/error.hpp>
#include <patternnet/core/hash.hpp>

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace patternnet::io {

static_assert(std::endian::native == std::endian::little, "patternnet's file formats assume a little-endian host");

using detail::fnv1a;

/// Writes bytes to `path` atomically (a temporary file in the same directory, renamed over
/// `path`, with the permissions of the file it replaces); throws Error naming the file on
/// failure, leaving any previous file in place. See the file comment for read-only files,
/// directories and symbolic links.
inline void write_file_atomically(const std::vector<unsigned char>& bytes, const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target = path;
  if (fs::is_symlink(fs::symlink_status(path, ec))) {
    target = fs::weakly_canonical(path, ec);
    if (ec) detail::fail<Error>("cannot resolve the symbolic link '{}': {}", path.string(), ec.message());
  }
  const fs::file_status old = fs::status(target, ec);  // not_found: a new file
  ec.clear();
  const bool replaces = fs::exists(old);
  if (fs::is_directory(old)) detail::fail<Error>("cannot write '{}': it is a directory", path.string());
  if (replaces && (old.permissions() & fs::perms::owner_write) == fs::perms::none) {
    detail::fail<Error>("cannot write '{}': the file is read-only (it was left as it is)", path.string());
  }
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  if (!fs::is_directory(parent, ec)) {
    detail::fail<Error>("cannot write '{}': the directory '{}' does not exist", path.string(), parent.string());
  }
  const fs::path tmp = target.string() + ".tmp-" + std::to_string(std::random_device{}());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ignore;
      fs::remove(tmp, ignore);
      detail::fail<Error>("cannot write '{}' (writing the temporary file '{}' failed: {})", path.string(), tmp.string(),
                          std::strerror(errno));
    }
  }
  if (replaces) fs::permissions(tmp, old.permissions(), ec);
  if (!ec) fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    detail::fail<Error>("cannot move '{}' to '{}': {}", tmp.string(), target.string(), ec.message());
  }
}

/// Appends plain values to a byte buffer.
class Writer {
public:
  template <class V>
    requires std::is_trivially_copyable_v<V>
  void put(const V& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(V));
  }
  template <class V>
  void put_array(const V* data, std::size_t n) {
    const auto* p = reinterpret_cast<const unsigned char*>(data);
    bytes_.insert(bytes_.end(), p, p + n * sizeof(V));
  }
  void put_string(std::string_view s) {
    put(static_cast<std::uint32_t>(s.size()));
    put_array(s.data(), s.size());
  }

  /// Writes payload + checksum to `path` atomically (see write_file_atomically).
  void commit(const std::filesystem::path& path) const {
    std::vector<unsigned char> file = bytes_;
    const std::uint64_t sum = fnv1a(bytes_.data(), bytes_.size());
    const auto* p = reinterpret_cast<const unsigned char*>(&sum);
    file.insert(file.end(), p, p + sizeof(sum));
    write_file_atomically(file, path);
  }

private:
  std::vector<unsigned char> bytes_;
};

/// Reads plain values from a whole file (payload = all but the trailing checksum); every
/// read is bounds-checked and throws FormatError naming the file, what was being read and
/// the byte offset where that field starts.
class Reader {
public:
  explicit Reader(const std::filesystem::path& path, std::string_view kind) : path_(path.string()), kind_(kind) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) detail::fail<Error>("cannot read {} file '{}': it is a directory", kind_, path_);
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::fail<Error>("cannot open {} file '{}'", kind_, path_);
    bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    size_ = bytes_.size() >= sizeof(std::uint64_t) ? bytes_.size() - sizeof(std::uint64_t) : 0;
  }

  /// Throws FormatError unless the trailing checksum matches the payload. Call it after
  /// checking the magic and version, so that a foreign file is reported as such.
  void verify_checksum() const {
    if (bytes_.size() < sizeof(std::uint64_t)) fail_at(0, "the file is truncated ({} bytes)", bytes_.size());
    std::uint64_t stored = 0;
    std::memcpy(&stored, bytes_.data() + size_, sizeof(stored));
    if (stored != fnv1a(bytes_.data(), size_)) fail_at(size_, "checksum mismatch: the file is truncated or corrupt");
  }

  template <class V>
    requires std::is_trivially_copyable_v<V>
  [[nodiscard]] V get(const char* what) {
    V v;
    take(&v, sizeof(V), what);
    return v;
  }
  template <class V>
  void get_array(V* data, std::size_t n, const char* what) {
    if (n > (size_ - pos_) / sizeof(V)) fail_at(pos_, "truncated while reading {}", what);
    take(data, n * sizeof(V), what);
  }
  [[nodiscard]] std::string get_string(const char* what) {
    const auto n = get<std::uint32_t>(what);
    if (n > remaining()) fail("truncated: {} has {} bytes, {} are left", what, n, remaining());
    std::string s(n, '\0');
    get_array(s.data(), n, what);
    return s;
  }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == size_; }
  /// Payload bytes not read yet (to check a size read from the file before allocating it).
  [[nodiscard]] std::size_t remaining() const noexcept { return size_ - pos_; }

  /// Throws FormatError about the field read last (or being read), at its offset.
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    fail_at(field_, format, std::forward<Args>(args)...);
  }

private:
  template <class... Args>
  [[noreturn]] void fail_at(std::size_t offset, fmt::format_string<Args...> format, Args&&... args) const {
    detail::fail<FormatError>("{} file '{}', byte {}: {}", kind_, path_, offset, fmt::format(format, std::forward<Args>(args)...));
  }

  void take(void* dst, std::size_t n, const char* what) {
    field_ = pos_;
    if (n > size_ - pos_) fail("truncated while reading {}", what);
    std::memcpy(dst, bytes_.data() + pos_, n);
    pos_ += n;
  }

  std::string path_;
  std::string_view kind_;
  std::vector<unsigned char> bytes_;
  std::size_t size_ = 0, pos_ = 0, field_ = 0;
};

}  // namespace patternnet::io
