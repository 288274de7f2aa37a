// Driver for fuzz targets in builds without libFuzzer (GCC): runs every seed file in the given
// corpus directories, then a fixed number of deterministic mutations of them (byte flips,
// truncations, insertions), so that `ctest` exercises each decoder briefly on every build.
// With the `fuzz` preset (clang), targets link libFuzzer instead and this file is not used.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::vector<uint8_t>> seeds;
  long iterations = 20000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-runs=", 0) == 0) {
      iterations = std::strtol(arg.c_str() + 6, nullptr, 10);
      continue;
    }
    std::filesystem::path p(arg);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) files.push_back(e.path());
    } else {
      files.push_back(p);
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (seeds.empty()) seeds.emplace_back();
  for (const auto& s : seeds) LLVMFuzzerTestOneInput(s.data(), s.size());
  std::mt19937_64 rng(0x6e656f736c);  // fixed seed: the same inputs on every run
  for (long i = 0; i < iterations; ++i) {
    std::vector<uint8_t> in = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:
          if (!in.empty()) in[rng() % in.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          if (!in.empty()) in.resize(rng() % in.size());
          break;
        case 2:
          in.insert(in.begin() + static_cast<long>(in.empty() ? 0 : rng() % in.size()), static_cast<uint8_t>(rng()));
          break;
        default:
          if (!in.empty()) in[rng() % in.size()] = static_cast<uint8_t>(rng());
      }
    }
    LLVMFuzzerTestOneInput(in.data(), in.size());
  }
  std::printf("fuzz smoke: %zu seeds, %ld mutated inputs, no crash\n", seeds.size(), iterations);
  return 0;
}
