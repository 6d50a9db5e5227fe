// A main for the harnesses in builds without libFuzzer: feeds every file
// named on the command line, or found (recursively) in a directory named
// there, to LLVMFuzzerTestOneInput once. A harness that crashes or aborts
// fails the run; so does finding no input at all (a wrong corpus path).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

namespace {

void run_one(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    std::exit(2);
  }
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Copied to an exact-size buffer, so a read past the end stays visible
  // to sanitizers as it is under libFuzzer.
  std::vector<std::uint8_t> exact(data.begin(), data.end());
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    fs::path arg(argv[i]);
    if (fs::is_directory(arg)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::recursive_directory_iterator(arg))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& p : files) {
        run_one(p);
        ++count;
      }
    } else {
      run_one(arg);
      ++count;
    }
  }
  std::printf("replay: %zu inputs ran\n", count);
  return count == 0 ? 1 : 0;
}
