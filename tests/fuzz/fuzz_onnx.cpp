// Fuzz target: ONNX import from memory on arbitrary bytes, then a forward pass of a zero
// batch when the imported input is small. Seeds: tests/data/onnx/*.onnx.
#include <patternnet/io/onnx.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto net = patternnet::io::load_onnx<float>(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
    if (net.input_shape().size() <= 4096) (void)net.forward(patternnet::Batch<float>(net.input_shape(), 1));
  } catch (const patternnet::Error&) {
  }
  return 0;
}
