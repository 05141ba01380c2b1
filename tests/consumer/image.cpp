// Uses the installed image component: encodes a 2 x 1 PNG; exits 0 if stb produced a PNG.
#include <patternnet/io/image.hpp>

#include <cstdio>

int main() {
  patternnet::io::Image img(2, 1, patternnet::io::diverging_color(0.0));
  const auto png = patternnet::io::encode_png(img);
  const bool ok = png.size() > 8 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G';
  std::printf("image component: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
