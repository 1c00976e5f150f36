// s3rver (test/support/s3/server.mjs, an S3-compatible server from npm) on a
// free loopback port, stopped with the test: a real S3 protocol peer for the
// S3 blob store and the media module. Credentials S3RVER / S3RVER, bucket
// kS3Bucket. Needs HUNTAZE_TEST_S3_SERVER (scripts/test sets it).
// Thread-safety: one thread owns an S3Server.
#pragma once

#include <memory>
#include <string>

namespace huntaze::test {

inline constexpr const char* kS3Bucket = "huntaze-test";

class ChildProcess;

class S3Server {
 public:
  S3Server();
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace huntaze::test
