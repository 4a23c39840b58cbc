#ifndef CASETRAIL_TESTS_TESTING_CLI_PROCESS_H_
#define CASETRAIL_TESTS_TESTING_CLI_PROCESS_H_

// Runs a command-line program (the casetrail CLI, or casetraild when a test
// expects it to exit on its own) as a child process to completion, and keeps
// its exit code and everything it wrote.

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace casetrail::testing {

struct CliResult {
  // The exit code, or 128 + signal number if a signal ended the process, as a
  // shell reports it; -1 if it could not be started or waited for.
  int exit_code = -1;
  std::string out;
  std::string err;
  // The command line, for failure messages.
  std::string command;
};

// The casetrail CLI binary to test: $CASETRAIL_CLI if set (to test another
// build or an installed binary), else the one this build produced
// (CASETRAIL_CLI_PATH).
std::string CasetrailCliPath();

// Runs `binary` with `args` (argv[1] onwards), standard input /dev/null, and
// waits for it. Its output goes to unlinked temporary files rather than pipes,
// so a child that writes a lot cannot block on a full pipe while we wait. A
// child still running after `timeout` is killed (SIGKILL), which shows as exit
// code 137; the child is also killed if the calling thread exits, so run it
// from the test's main thread.
CliResult RunProgram(const std::string& binary,
                     const std::vector<std::string>& args,
                     absl::Duration timeout = absl::Seconds(60));

// RunProgram(CasetrailCliPath(), args).
CliResult RunCasetrail(const std::vector<std::string>& args,
                       absl::Duration timeout = absl::Seconds(60));

// For failure messages: the command line, exit code, stdout and stderr.
std::string Describe(const CliResult& result);

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_CLI_PROCESS_H_
