#ifndef CASETRAIL_TESTS_FUZZ_FUZZ_SEEDS_H_
#define CASETRAIL_TESTS_FUZZ_FUZZ_SEEDS_H_

// Each fuzz target defines FuzzSeeds(): well-formed inputs that
// fuzz_driver_main.cc mutates (libFuzzer builds do not use them).

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"

std::vector<std::string> FuzzSeeds();

// Protobuf logs every string field with invalid UTF-8 it parses; fuzzed input
// is full of them. Each target calls this once.
inline void SilenceProtobufLogs() {
  static const bool silenced = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)silenced;
}

// Aborts, naming the broken invariant, so that any fuzzing driver reports the
// input as a crash.
#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // CASETRAIL_TESTS_FUZZ_FUZZ_SEEDS_H_
