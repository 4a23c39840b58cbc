#include "tests/testing/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#ifndef CASETRAILD_PATH
#error \
    "CASETRAILD_PATH must name the casetraild binary (see tests/CMakeLists.txt)"
#endif

namespace casetrail::testing {
namespace {

constexpr char kListeningPrefix[] = "listening on ";

// Converts a waitpid status the way a shell reports it.
int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// The port of the first "listening on HOST:PORT," line in `text`, or 0.
int ParseListeningPort(const std::string& text) {
  const size_t start = text.find(kListeningPrefix);
  if (start == std::string::npos) return 0;
  const size_t end = text.find(',', start);
  if (end == std::string::npos) return 0;
  const std::string host_port =
      text.substr(start + sizeof(kListeningPrefix) - 1,
                  end - start - sizeof(kListeningPrefix) + 1);
  const size_t colon = host_port.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(host_port.substr(colon + 1), &port)) {
    return 0;
  }
  return port;
}

}  // namespace

TempDir::TempDir() {
  std::string base = ::testing::TempDir();
  if (base.empty()) base = "/tmp/";
  if (base.back() != '/') base.push_back('/');
  std::string pattern = base + "casetrail_test_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "mkdtemp(%s) failed: %s\n", pattern.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteWholeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string CasetraildPath() {
  const char* override_path = std::getenv("CASETRAILD");
  return override_path != nullptr && *override_path != '\0' ? override_path
                                                            : CASETRAILD_PATH;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    Options options) {
  if (options.binary.empty()) options.binary = CasetraildPath();
  std::vector<std::string> args = {
      options.binary, "--data_dir=" + options.data_dir, "--listen=127.0.0.1:0"};
  if (options.plaintext) args.push_back("--plaintext_loopback");
  args.insert(args.end(), options.extra_flags.begin(),
              options.extra_flags.end());
  // Everything the child touches is prepared before fork: between fork and
  // exec only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // dup2 clears close-on-exec on the new descriptor; everything else of
    // ours is close-on-exec.
    if (dup2(fds[1], STDERR_FILENO) < 0) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);

  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->pid_ = pid;
  server->stderr_fd_ = fds[0];
  server->reader_ = std::thread([s = server.get()] { s->DrainStderr(); });

  std::string text;
  {
    ServerProcess* s = server.get();
    absl::MutexLock l(&s->mu_);
    auto ready = [s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
      return s->stderr_closed_ || ParseListeningPort(s->stderr_text_) != 0;
    };
    s->mu_.AwaitWithTimeout(absl::Condition(&ready), options.start_timeout);
    s->port_ = ParseListeningPort(s->stderr_text_);
    text = s->stderr_text_;
  }
  if (server->port_ == 0) {
    const int exit_code = server->Kill();
    const std::string command = absl::StrJoin(args, " ");
    if (exit_code != 128 + SIGKILL) {
      // The exit code is in the message for tests of refused starts.
      return absl::UnavailableError(
          absl::StrCat(command, " exited with code ", exit_code,
                       " before listening; stderr:\n", server->StderrText()));
    }
    return absl::DeadlineExceededError(absl::StrCat(
        command, " did not log \"", kListeningPrefix, "\" within ",
        absl::FormatDuration(options.start_timeout), "; stderr:\n", text));
  }
  server->address_ = absl::StrCat("127.0.0.1:", server->port_);
  return server;
}

ServerProcess::~ServerProcess() {
  if (running()) Kill();
  if (reader_.joinable()) reader_.join();
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

int ServerProcess::Stop(absl::Duration timeout) {
  if (!running()) return -1;
  kill(pid_, SIGTERM);
  return Reap(timeout);
}

int ServerProcess::Kill() {
  if (!running()) return -1;
  kill(pid_, SIGKILL);
  return Reap(absl::InfiniteDuration());
}

int ServerProcess::Reap(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (done < 0 && errno != EINTR) {
      status = -1;
      break;
    }
    if (absl::Now() >= deadline) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  pid_ = -1;
  // The child held the only write end of the pipe, so the reader sees EOF.
  if (reader_.joinable()) reader_.join();
  return status == -1 ? -1 : ExitCode(status);
}

std::string ServerProcess::StderrText() const {
  absl::MutexLock l(&mu_);
  return stderr_text_;
}

void ServerProcess::DrainStderr() {
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(stderr_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    absl::MutexLock l(&mu_);
    if (n <= 0) {
      stderr_closed_ = true;
      return;
    }
    stderr_text_.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace casetrail::testing
