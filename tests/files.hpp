#pragma once
// Test helpers for file formats: a temporary directory, raw bytes in and out.

#include <patternnet/io/binary.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace support {

/// A fresh directory under the system's temporary directory, removed with its contents.
struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("patternnet_test_" + std::to_string(std::random_device{}()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline std::vector<char> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Writes `bytes`; with fix_checksum, first replaces the last 8 bytes by the FNV-1a
/// checksum of the others (as the library's model and pattern files end).
inline void write_bytes(const std::filesystem::path& p, std::vector<char> bytes, bool fix_checksum) {
  if (fix_checksum) {
    const auto sum = patternnet::io::fnv1a(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
  }
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Writes `text` as it is.
inline void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

}  // namespace support
