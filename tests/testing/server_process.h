#ifndef CASETRAIL_TESTS_TESTING_SERVER_PROCESS_H_
#define CASETRAIL_TESTS_TESTING_SERVER_PROCESS_H_

// Runs the real casetraild as a child process for integration and crash tests,
// and gives each test a fresh directory to keep its data in.

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace casetrail::testing {

// A new, empty directory under ::testing::TempDir() (or /tmp), removed with
// everything in it when the object is destroyed. Not thread-safe; the path may
// be shared freely.
class TempDir {
 public:
  // Aborts the test binary if the directory cannot be created.
  TempDir();
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `path()/name`.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The whole of a file (binary); a test failure if it cannot be read.
std::string ReadWholeFile(const std::string& path);
// Replaces `path` with `text`; a fatal test failure if it cannot be written.
void WriteWholeFile(const std::string& path, const std::string& text);

// The casetraild binary to test: $CASETRAILD if set (to test another build or
// an installed binary), else the one this build produced (CASETRAILD_PATH).
std::string CasetraildPath();

// One running casetraild. Start() forks and execs it with --data_dir,
// --listen=127.0.0.1:0 and (unless told otherwise) --plaintext_loopback, and
// returns once it has logged the line saying which
// port it listens on. A background thread keeps draining its stderr, so the
// pipe never fills, and keeps the text for StderrText().
//
// The destructor kills a server that is still running (SIGKILL). The child is
// also sent SIGKILL if the thread that started it exits, so a crashed test
// leaves no server behind: start servers from the test's main thread.
//
// Thread-safe: address(), pid() and StderrText() may be called from any
// thread; Stop() and Kill() from one thread at a time.
class ServerProcess {
 public:
  struct Options {
    std::string data_dir;
    // Pass --plaintext_loopback (before extra_flags). Default true; false for
    // a server given TLS flags in extra_flags, or one expected to refuse.
    bool plaintext = true;
    // Appended to the command line, e.g. "--max_event_bytes=1024".
    std::vector<std::string> extra_flags;
    // How long to wait for the listening line. Default 20 s.
    absl::Duration start_timeout = absl::Seconds(20);
    // Binary to run. Default: CasetraildPath().
    std::string binary;
  };

  // Errors: INTERNAL if the process cannot be started; DEADLINE_EXCEEDED or
  // UNAVAILABLE (the message holds its stderr) if it does not come up. When it
  // exited, UNAVAILABLE's message says "exited with code N before listening".
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& data_dir) {
    Options options;
    options.data_dir = data_dir;
    return Start(std::move(options));
  }

  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // "127.0.0.1:PORT", for grpc::CreateChannel.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Sends SIGTERM and waits for the process (up to `timeout`, after which it
  // is killed). Returns its exit code, or 128 + signal number if a signal
  // ended it, as a shell would; -1 if it was not running.
  int Stop(absl::Duration timeout = absl::Seconds(30));
  // Sends SIGKILL and waits for the process. Returns as Stop() does.
  int Kill();

  // Everything the server wrote to stderr so far (all of it once Stop() or
  // Kill() has returned).
  std::string StderrText() const;

 private:
  ServerProcess() = default;
  void DrainStderr();
  // Waits for the child and the stderr thread. Returns as Stop() does.
  int Reap(absl::Duration timeout);

  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  std::string address_;
  int port_ = 0;
  std::thread reader_;

  mutable absl::Mutex mu_;
  std::string stderr_text_ ABSL_GUARDED_BY(mu_);
  bool stderr_closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace casetrail::testing

#endif  // CASETRAIL_TESTS_TESTING_SERVER_PROCESS_H_
