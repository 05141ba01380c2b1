// Fuzz target: IDX images and labels on arbitrary bytes (zlib reads plain and gzip alike).
#include "fuzz_input.hpp"
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::run(data, size, ".idx", fuzz::idx_images);
  return fuzz::run(data, size, ".idx", fuzz::idx_labels);
}
