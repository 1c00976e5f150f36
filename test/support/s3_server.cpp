#include "support/s3_server.hpp"

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "support/child_process.hpp"

namespace huntaze::test {

using namespace std::chrono_literals;

S3Server::S3Server() {
  const char* script = std::getenv("HUNTAZE_TEST_S3_SERVER");
  if (!script || !*script)
    throw std::runtime_error("HUNTAZE_TEST_S3_SERVER is not set (scripts/test sets it to test/support/s3/server.mjs)");
  process_ =
      std::make_unique<ChildProcess>("/usr/bin/env", std::vector<std::string>{"node", script, "--bucket", kS3Bucket});
  const std::string ready = process_->wait_for_line("ready ", 30s);
  port_ = std::stoi(ready.substr(6));
}

S3Server::~S3Server() {
  process_->signal(SIGTERM);
  if (!process_->wait(5s)) process_->signal(SIGKILL);
}

}  // namespace huntaze::test
