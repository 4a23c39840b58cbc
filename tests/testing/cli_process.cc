#include "tests/testing/cli_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

#ifndef CASETRAIL_CLI_PATH
#error \
    "CASETRAIL_CLI_PATH must name the casetrail binary (see tests/CMakeLists.txt)"
#endif

namespace casetrail::testing {
namespace {

// An unlinked temporary file, so nothing is left behind whatever happens.
// Returns -1 (after failing the test) if it cannot be created.
int AnonymousFile() {
  std::string dir = ::testing::TempDir();
  if (dir.empty()) dir = "/tmp/";
  if (dir.back() != '/') dir.push_back('/');
  std::string pattern = dir + "casetrail_cli_XXXXXX";
  const int fd = mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "mkostemp(" << pattern << "): " << std::strerror(errno);
    return -1;
  }
  unlink(pattern.c_str());
  return fd;
}

std::string ReadAll(int fd) {
  std::string text;
  if (lseek(fd, 0, SEEK_SET) != 0) return text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// Converts a waitpid status the way a shell reports it.
int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

std::string CasetrailCliPath() {
  const char* override_path = std::getenv("CASETRAIL_CLI");
  return override_path != nullptr && *override_path != '\0'
             ? override_path
             : CASETRAIL_CLI_PATH;
}

CliResult RunProgram(const std::string& binary,
                     const std::vector<std::string>& args,
                     absl::Duration timeout) {
  CliResult result;
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  result.command = absl::StrJoin(argv_strings, " ");

  const int out_fd = AnonymousFile();
  const int err_fd = AnonymousFile();
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto close_all = [&] {
    for (int fd : {out_fd, err_fd, null_fd}) {
      if (fd >= 0) close(fd);
    }
  };
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    close_all();
    return result;
  }
  // Everything the child touches is prepared before fork: between fork and
  // exec only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    close_all();
    return result;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // dup2 clears close-on-exec on the new descriptors; everything else of
    // ours is close-on-exec.
    if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
        dup2(err_fd, STDERR_FILENO) < 0) {
      _exit(127);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }

  // Polled rather than a blocking waitpid so that a hung child is killed
  // instead of hanging the test until ctest's timeout.
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      ADD_FAILURE() << "waitpid: " << std::strerror(errno);
      status = -1;
      break;
    }
    if (absl::Now() >= deadline) {
      ADD_FAILURE() << result.command << " still running after "
                    << absl::FormatDuration(timeout) << "; killed";
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  result.exit_code = status == -1 ? -1 : ExitCode(status);
  result.out = ReadAll(out_fd);
  result.err = ReadAll(err_fd);
  close_all();
  return result;
}

CliResult RunCasetrail(const std::vector<std::string>& args,
                       absl::Duration timeout) {
  return RunProgram(CasetrailCliPath(), args, timeout);
}

std::string Describe(const CliResult& result) {
  return absl::StrCat("$ ", result.command, "\nexit code ", result.exit_code,
                      "\n--- stdout ---\n", result.out, "--- stderr ---\n",
                      result.err);
}

}  // namespace casetrail::testing
