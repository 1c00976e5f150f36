// A TLS endpoint on loopback for client tests: a fresh self-signed
// certificate (RSA 2048, valid for an hour) for the names given, and a server
// answering every request on a connection with "200 ok" over HTTP/1.1.
//
// Ownership: owns its thread and acceptor; stops and joins on destruction.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace huntaze::test {

class TlsServer {
 public:
  // `alt_names`: subjectAltName entries such as "IP:127.0.0.1" or "DNS:localhost".
  explicit TlsServer(std::vector<std::string> alt_names = {"IP:127.0.0.1", "DNS:localhost"});
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  int port() const;
  std::string url(const std::string& path = "/") const;  // https://127.0.0.1:<port><path>
  // A PEM file holding the server's certificate: trust it to verify the server.
  const std::string& ca_file() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huntaze::test
