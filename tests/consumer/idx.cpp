// Uses the installed idx component: reads a 1-label IDX file it writes; exits 0 if it reads back.
#include <patternnet/io/idx.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

int main() {
  const auto path = std::filesystem::temp_directory_path() / "patternnet_consumer_labels.idx";
  const unsigned char bytes[] = {0, 0, 8, 1, 0, 0, 0, 1, 7};
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  const auto labels = patternnet::io::read_idx_labels(path);
  std::filesystem::remove(path);
  const bool ok = labels.size() == 1 && labels[0] == 7;
  std::printf("idx component: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
