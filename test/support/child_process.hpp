// A program run as a child process by a test: started with fork/exec, its
// stdout read line by line through a pipe (stderr is inherited, so its logs
// land in the test's output), signalled, and reaped with deadlines.
//
//   test::ChildProcess worker(HUNTAZE_TEST_JOB_WORKER, {"--db", url});
//   auto ready = worker.wait_for_line("ready ", 30s);  // throws on EOF or timeout
//   worker.signal(SIGTERM);
//   auto exit = worker.wait(30s);                       // nullopt: still running
//   CHECK(exit && exit->code == 0);
//
// The destructor kills (SIGKILL) and reaps a child that is still running, so
// a failing test never leaves processes behind.
// Thread-safety: one thread uses a ChildProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huntaze::test {

// How a child ended: exited with `code`, or was killed by `signal`.
struct ExitStatus {
  int code = -1;   // -1 when killed by a signal
  int signal = 0;  // 0 when it exited
};

class ChildProcess {
 public:
  // Starts `program` (a path) with `args`; throws std::runtime_error when
  // fork or the pipe fails. A program that cannot be executed exits 127.
  ChildProcess(const std::string& program, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of stdout without its newline; nullopt at end of output or
  // when no full line arrived within `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Reads lines until one starts with `prefix` and returns it; throws
  // std::runtime_error (with the lines skipped) on end of output or timeout.
  std::string wait_for_line(std::string_view prefix, std::chrono::milliseconds timeout);

  // Sends `sig` unless the child was already reaped.
  void signal(int sig);
  // Waits for the child to end; nullopt when it still runs after `timeout`.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  // True until the child has been reaped (by wait or the destructor).
  bool running() const { return !exit_.has_value(); }

 private:
  bool reap(bool block);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
  std::optional<ExitStatus> exit_;
};

}  // namespace huntaze::test
