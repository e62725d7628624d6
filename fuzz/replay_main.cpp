// Replays inputs through a fuzz target's entry point without libFuzzer, so that a gcc
// build (CI) runs every seed and every saved crash reproducer as a regression test.
// Usage: <target> FILE_OR_DIR...   (directories: every regular file in them, sorted)
// Each input runs on a thread with a 1 MiB stack (a server thread has 8), so that input
// which recurses once per byte overflows it at a size a corpus file can have.
#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr size_t kStackBytes = 1 << 20;

void* RunOne(void* arg) {
  auto* data = static_cast<std::vector<uint8_t>*>(arg);
  LLVMFuzzerTestOneInput(data->data(), data->size());
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs\n");
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), bytes.size());
    // A copy of exactly the input's size, so that a read past the end is an ASan report
    // in sanitizer builds, as under libFuzzer.
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kStackBytes);
    pthread_t thread;
    if (pthread_create(&thread, &attr, RunOne, &data) != 0) {
      std::fprintf(stderr, "replay: cannot start a thread\n");
      return 2;
    }
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attr);
  }
  std::printf("replay: %zu inputs ran\n", files.size());
  return 0;
}
