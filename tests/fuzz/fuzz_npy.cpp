// Fuzz target: .npy arrays on arbitrary bytes. Seeds: tests/data/onnx/*.npy (numpy.save).
#include "fuzz_input.hpp"

#include <patternnet/io/npy.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::run(data, size, ".npy", [](const std::filesystem::path& p) { (void)patternnet::io::load_npy<float>(p); });
}
