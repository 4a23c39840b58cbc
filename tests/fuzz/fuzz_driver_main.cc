// A stand-in for libFuzzer's main() where the compiler has no -fsanitize=fuzzer
// (g++): runs the linked target over its seeds, then over deterministic
// pseudo-random and mutated inputs, for a bounded number of runs and time.
//
// Usage: TARGET [FILE...]        with files: run each once (to reproduce)
//        TARGET [-runs=N]        default 20000 generated inputs

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr uint64_t kRngSeed = 20240301;
constexpr auto kMaxTime = std::chrono::seconds(60);

// The input being run, for the crash handler.
const std::vector<uint8_t>* current_input = nullptr;

// On a crash, writes the input to ./crash-input (rerun with TARGET
// crash-input) and as hex to stderr. Only async-signal-safe calls.
void DumpInputAndDie(int sig) {
  if (current_input != nullptr) {
    const int fd = open("crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!write(fd, current_input->data(), current_input->size());
      close(fd);
    }
    static const char kHex[] = "0123456789abcdef";
    const char header[] = "\ncrashing input (also in ./crash-input), hex: ";
    (void)!write(STDERR_FILENO, header, sizeof(header) - 1);
    for (uint8_t b : *current_input) {
      const char pair[2] = {kHex[b >> 4], kHex[b & 15]};
      (void)!write(STDERR_FILENO, pair, 2);
    }
    (void)!write(STDERR_FILENO, "\n", 1);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void Run(const std::string& input) {
  // A copy in a buffer of its own size, so out-of-bounds reads are more
  // likely to be noticed.
  std::vector<uint8_t> buffer(input.begin(), input.end());
  current_input = &buffer;
  LLVMFuzzerTestOneInput(buffer.empty() ? nullptr : buffer.data(),
                         buffer.size());
  current_input = nullptr;
}

class Mutator {
 public:
  explicit Mutator(std::vector<std::string> seeds)
      : seeds_(std::move(seeds)), rng_(kRngSeed) {}

  std::string Next() {
    if (seeds_.empty() || Below(8) == 0) return RandomBytes(Below(256));
    std::string s = seeds_[Below(seeds_.size())];
    const size_t mutations = 1 + Below(4);
    for (size_t i = 0; i < mutations; ++i) Mutate(s);
    return s;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : rng_() % n; }

  std::string RandomBytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }

  void Mutate(std::string& s) {
    static const char kInteresting[] = {'\0',   '\x01', '\x7f', '\x80', '\xff',
                                        '\x0a', '\x12', '\x7a', ' '};
    switch (Below(8)) {
      case 0:  // flip a bit
        if (!s.empty()) s[Below(s.size())] ^= static_cast<char>(1 << Below(8));
        break;
      case 1:  // set a byte to an interesting value (varint edges, tags)
        if (!s.empty()) {
          s[Below(s.size())] = kInteresting[Below(sizeof(kInteresting))];
        }
        break;
      case 2:  // insert random bytes
        s.insert(Below(s.size() + 1), RandomBytes(1 + Below(8)));
        break;
      case 3:  // erase a range
        if (!s.empty()) {
          const size_t at = Below(s.size());
          s.erase(at, 1 + Below(s.size() - at));
        }
        break;
      case 4:  // truncate
        s.resize(Below(s.size() + 1));
        break;
      case 5:  // duplicate a chunk
        if (!s.empty()) {
          const size_t at = Below(s.size());
          const std::string chunk = s.substr(at, 1 + Below(16));
          s.insert(Below(s.size() + 1), chunk);
        }
        break;
      case 6:  // splice with another seed
        if (!seeds_.empty()) {
          const std::string& other = seeds_[Below(seeds_.size())];
          s = s.substr(0, Below(s.size() + 1)) +
              other.substr(Below(other.size() + 1));
        }
        break;
      default:  // overwrite a byte with a random one
        if (!s.empty()) s[Below(s.size())] = static_cast<char>(rng_());
        break;
    }
  }

  std::vector<std::string> seeds_;
  std::mt19937_64 rng_;
};

}  // namespace

int main(int argc, char** argv) {
  long runs = 20000;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0) {
      runs = std::strtol(argv[i] + 6, nullptr, 10);
    } else {
      files.push_back(argv[i]);
    }
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
    signal(sig, DumpInputAndDie);
  }
  if (!files.empty()) {
    for (const std::string& file : files) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "cannot read %s\n", file.c_str());
        return 2;
      }
      std::stringstream contents;
      contents << in.rdbuf();
      Run(contents.str());
    }
    std::printf("ran %zu file(s)\n", files.size());
    return 0;
  }

  const std::vector<std::string> seeds = FuzzSeeds();
  Run("");
  for (const std::string& seed : seeds) Run(seed);
  Mutator mutator(seeds);
  const auto deadline = std::chrono::steady_clock::now() + kMaxTime;
  long done = 0;
  for (; done < runs && std::chrono::steady_clock::now() < deadline; ++done) {
    Run(mutator.Next());
  }
  std::printf("ran %zu seeds and %ld generated inputs\n", seeds.size(), done);
  return 0;
}
