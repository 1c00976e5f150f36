// fake_openai: the test support's FakeOpenAi (test/support/fake_openai.hpp)
// as a standalone process with its default handler, for the ai_router
// benchmark and manual runs.
//
//   fake_openai [--port N] [--threads T]
//
// Listens on 127.0.0.1 (port 0, the default, picks a free one), prints
// exactly one line "listening on <port>" on stdout, and serves until SIGINT
// or SIGTERM, then exits 0. Requests are counted but not recorded, so it can
// run for as long as a benchmark needs.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "support/fake_openai.hpp"

namespace {

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr, "fake_openai: %s\nusage: fake_openai [--port N] [--threads T]\n", problem.c_str());
  std::exit(2);
}

int number(const std::string& flag, const std::string& text, int min, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
    usage(flag + " wants an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " wants a value");
    const std::string value = argv[++i];
    if (flag == "--port")
      port = number(flag, value, 0, 65535);
    else if (flag == "--threads")
      threads = number(flag, value, 1, 64);
    else
      usage("unknown option " + flag);
  }

  // Blocked before the server's threads start, so that they inherit the mask
  // and sigwait below is the only receiver.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    huntaze::test::FakeOpenAi server(static_cast<uint16_t>(port), threads, 0);
    std::printf("listening on %d\n", server.port());
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake_openai: %s\n", e.what());
    return 1;
  }
  return 0;
}
