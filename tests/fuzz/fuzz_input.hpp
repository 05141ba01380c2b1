#pragma once
// Shared by the fuzz targets: the readers take paths, so each input is written to a file
// (in /dev/shm when it exists) and read back; every patternnet::Error is an expected
// rejection, anything else (a crash, a sanitizer report, another exception) is a finding.

#include <patternnet/core/error.hpp>
#include <patternnet/io/binary.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fuzz {

inline std::filesystem::path input_file(const std::uint8_t* data, std::size_t size, const char* suffix) {
  namespace fs = std::filesystem;
  static const fs::path dir = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path path = dir / ("patternnet-fuzz-" + std::to_string(::getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                static_cast<std::streamsize>(size));
  return path;
}

/// Runs f(path) on the input written to a file; patternnet::Error is a clean rejection.
template <class F>
int run(const std::uint8_t* data, std::size_t size, const char* suffix, const F& f) {
  const auto path = input_file(data, size, suffix);
  try {
    f(path);
  } catch (const patternnet::Error&) {
  }
  std::error_code ignore;
  std::filesystem::remove(path, ignore);
  return 0;
}

/// The input with its last 8 bytes replaced by the checksum of the others (the files of
/// io/binary.hpp end in one), so that mutations reach the parser behind the checksum test.
inline std::vector<std::uint8_t> with_checksum(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> b(data, data + size);
  if (b.size() >= 8) {
    const std::uint64_t sum = patternnet::io::fnv1a(b.data(), b.size() - 8);
    for (int i = 0; i < 8; ++i) b[b.size() - 8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sum >> (8 * i));
  }
  return b;
}

}  // namespace fuzz
