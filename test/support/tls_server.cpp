#include "support/tls_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
// Asio is compiled separately (src/core/asio_impl.cpp) without its SSL part,
// which only the tests use: compiled here.
#include <boost/asio/ssl/impl/src.hpp>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace huntaze::test {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

std::string to_pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string to_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// A self-signed certificate (it is its own CA) for `alt_names`.
std::pair<std::string, std::string> self_signed(const std::vector<std::string>& alt_names) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (!key) throw std::runtime_error("RSA key generation failed");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("huntaze test"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::string sans;
  for (const auto& n : alt_names) sans += (sans.empty() ? "" : ",") + n;
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, sans},
                            {NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("bad certificate extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  auto out = std::make_pair(to_pem(cert), to_pem(key));
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

asio::awaitable<void> serve_one(ssl::stream<asio::ip::tcp::socket> stream) {
  try {
    co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
    std::string buffer;
    for (;;) {
      // One request (no body expected), then one answer, while the client keeps the connection.
      while (buffer.find("\r\n\r\n") == std::string::npos) {
        char chunk[4096];
        const size_t n = co_await stream.async_read_some(asio::buffer(chunk), asio::use_awaitable);
        buffer.append(chunk, n);
      }
      buffer.erase(0, buffer.find("\r\n\r\n") + 4);
      static const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
      co_await asio::async_write(stream, asio::buffer(answer), asio::use_awaitable);
    }
  } catch (const std::exception&) {
    // The client went away or refused our certificate: both are expected.
  }
}

}  // namespace

struct TlsServer::Impl {
  asio::io_context ioc;
  ssl::context tls{ssl::context::tls_server};
  asio::ip::tcp::acceptor acceptor{ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string ca_path;
  std::thread thread;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor.async_accept(asio::use_awaitable);
      asio::co_spawn(ioc, serve_one(ssl::stream<asio::ip::tcp::socket>(std::move(socket), tls)), asio::detached);
    }
  }
};

TlsServer::TlsServer(std::vector<std::string> alt_names) : impl_(std::make_unique<Impl>()) {
  auto [cert, key] = self_signed(alt_names);
  impl_->tls.use_certificate_chain(asio::buffer(cert));
  impl_->tls.use_private_key(asio::buffer(key), ssl::context::pem);
  char path[] = "/tmp/huntaze-tls-ca.XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  impl_->ca_path = path;
  std::ofstream(impl_->ca_path) << cert;
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TlsServer::~TlsServer() {
  impl_->ioc.stop();
  impl_->thread.join();
  std::remove(impl_->ca_path.c_str());
}

int TlsServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string TlsServer::url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port()) + path;
}

const std::string& TlsServer::ca_file() const { return impl_->ca_path; }

}  // namespace huntaze::test
