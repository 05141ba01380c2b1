// Fuzz target: image files (PNG, BMP; JPEG is refused) on arbitrary bytes: decode_image, then
// resize to 8 x 8 and image_batch. stb_image and stb_image_resize are compiled into this
// target (not taken from Debian's uninstrumented libstb), so that the sanitizers and the
// coverage see the decoders. Seeds: tests/data/images/*.png.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <patternnet/io/image_file.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace io = patternnet::io;
  try {
    // 2^20 pixels (a 4 MB decode) is this target's limit; decode_image() checks it from
    // the header before decoding.
    const io::Image img = io::decode_image(std::as_bytes(std::span(data, size)), "fuzz", patternnet::Index{1} << 20);
    const io::Image small = io::resize(img, 8, 8);
    const std::vector<io::Image> images{small};
    (void)io::image_batch<float>(images, {3, 8, 8}, io::Normalization::imagenet());
  } catch (const patternnet::Error&) {
  }
  return 0;
}
