// Fuzz target: io::load_moments on arbitrary bytes (checksum made valid) for a small network.
#include "fuzz_input.hpp"
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes = fuzz::with_checksum(data, size);
  return fuzz::run(bytes.data(), bytes.size(), ".pnm", fuzz::moments_file);
}
