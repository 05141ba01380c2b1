// Fuzz target: io::load_patterns on arbitrary bytes (checksum made valid) into a small network.
#include "fuzz_input.hpp"
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes = fuzz::with_checksum(data, size);
  return fuzz::run(bytes.data(), bytes.size(), ".pnp", fuzz::pattern_file);
}
