// The SSRF guard's address classification and allow-list, and the client
// config that feeds the allow-list.
#include "http/ssrf_guard.hpp"

#include <catch2/catch.hpp>

#include "huntaze/core/config.hpp"
#include "huntaze/http/client_config.hpp"

using namespace huntaze;
using http::ssrf::AddressClass;
using http::ssrf::AllowList;
using http::ssrf::classify;

namespace {

AddressClass of(const char* text) {
  return classify(boost::asio::ip::make_address(text));
}

std::optional<std::string> check(const char* address, const char* host, const AllowList& allow = {}) {
  return http::ssrf::check(boost::asio::ip::make_address(address), host, allow);
}

}  // namespace

TEST_CASE("IPv4 addresses are classified", "[http][ssrf]") {
  CHECK(of("8.8.8.8") == AddressClass::global);
  CHECK(of("1.1.1.1") == AddressClass::global);
  CHECK(of("172.15.255.255") == AddressClass::global);
  CHECK(of("172.32.0.1") == AddressClass::global);
  CHECK(of("100.63.255.255") == AddressClass::global);
  CHECK(of("100.128.0.1") == AddressClass::global);

  CHECK(of("10.0.0.1") == AddressClass::private_net);
  CHECK(of("10.255.255.255") == AddressClass::private_net);
  CHECK(of("172.16.0.1") == AddressClass::private_net);
  CHECK(of("172.31.255.254") == AddressClass::private_net);
  CHECK(of("192.168.1.1") == AddressClass::private_net);
  CHECK(of("100.64.0.1") == AddressClass::private_net);
  CHECK(of("100.127.255.255") == AddressClass::private_net);

  CHECK(of("127.0.0.1") == AddressClass::loopback);
  CHECK(of("127.255.0.9") == AddressClass::loopback);
  CHECK(of("169.254.169.254") == AddressClass::link_local);  // cloud metadata
  CHECK(of("0.0.0.0") == AddressClass::unspecified);
  CHECK(of("0.1.2.3") == AddressClass::unspecified);
  CHECK(of("224.0.0.1") == AddressClass::multicast);
  CHECK(of("239.255.255.250") == AddressClass::multicast);
  CHECK(of("255.255.255.255") == AddressClass::reserved);
  CHECK(of("240.0.0.1") == AddressClass::reserved);
  CHECK(of("198.18.0.1") == AddressClass::reserved);
}

TEST_CASE("IPv6 addresses are classified", "[http][ssrf]") {
  CHECK(of("2606:4700:4700::1111") == AddressClass::global);
  CHECK(of("2001:4860:4860::8888") == AddressClass::global);
  CHECK(of("::1") == AddressClass::loopback);
  CHECK(of("::") == AddressClass::unspecified);
  CHECK(of("fe80::1") == AddressClass::link_local);
  CHECK(of("febf::1") == AddressClass::link_local);
  CHECK(of("fec0::1") == AddressClass::private_net);
  CHECK(of("fc00::1") == AddressClass::unique_local);
  CHECK(of("fd12:3456::1") == AddressClass::unique_local);
  CHECK(of("ff02::1") == AddressClass::multicast);
  CHECK(of("100::1") == AddressClass::reserved);
}

TEST_CASE("IPv6 forms of IPv4 addresses are classified by the IPv4 address", "[http][ssrf]") {
  CHECK(of("::ffff:127.0.0.1") == AddressClass::loopback);
  CHECK(of("::ffff:10.1.2.3") == AddressClass::private_net);
  CHECK(of("::ffff:169.254.169.254") == AddressClass::link_local);
  CHECK(of("::ffff:8.8.8.8") == AddressClass::global);
  CHECK(of("::127.0.0.1") == AddressClass::loopback);        // IPv4-compatible
  CHECK(of("64:ff9b::a00:1") == AddressClass::private_net);  // NAT64 of 10.0.0.1
  CHECK(of("64:ff9b::808:808") == AddressClass::global);     // NAT64 of 8.8.8.8
  CHECK(of("2002:7f00:1::1") == AddressClass::loopback);     // 6to4 of 127.0.0.1
  CHECK(of("2002:0808:0808::1") == AddressClass::global);    // 6to4 of 8.8.8.8
}

TEST_CASE("check refuses internal addresses and explains why", "[http][ssrf]") {
  CHECK_FALSE(check("93.184.216.34", "example.com").has_value());
  auto reason = check("127.0.0.1", "example.com");
  REQUIRE(reason.has_value());
  CHECK_THAT(*reason, Catch::Matchers::Contains("127.0.0.1") && Catch::Matchers::Contains("loopback"));
  CHECK(check("::ffff:192.168.0.1", "router.example").has_value());
}

TEST_CASE("the allow-list admits hosts, addresses and CIDR networks", "[http][ssrf]") {
  AllowList allow({"localhost", "Ollama.Internal.", "127.0.0.1", "10.1.0.0/16", "fd00:1::/32", "172.20.0.5/32"});

  SECTION("by host name, whatever address it resolves to") {
    CHECK_FALSE(check("::1", "localhost", allow).has_value());
    CHECK_FALSE(check("10.9.9.9", "ollama.internal", allow).has_value());
    CHECK_FALSE(check("10.9.9.9", "OLLAMA.internal.", allow).has_value());
    CHECK(check("10.9.9.9", "evil.example", allow).has_value());
    CHECK(check("10.9.9.9", "sub.ollama.internal", allow).has_value());
  }
  SECTION("by single address, also in its IPv4-mapped form") {
    CHECK_FALSE(check("127.0.0.1", "anything.example", allow).has_value());
    CHECK_FALSE(check("::ffff:127.0.0.1", "anything.example", allow).has_value());
    CHECK(check("127.0.0.2", "anything.example", allow).has_value());
    CHECK_FALSE(check("172.20.0.5", "db", allow).has_value());
    CHECK(check("172.20.0.6", "db", allow).has_value());
  }
  SECTION("by network") {
    CHECK_FALSE(check("10.1.0.1", "svc", allow).has_value());
    CHECK_FALSE(check("10.1.255.255", "svc", allow).has_value());
    CHECK(check("10.2.0.1", "svc", allow).has_value());
    CHECK_FALSE(check("fd00:1:ffff::1", "svc", allow).has_value());
    CHECK(check("fd00:2::1", "svc", allow).has_value());
  }
  SECTION("a bracketed IPv6 URL host is compared without brackets") {
    AllowList v6({"::1"});
    CHECK_FALSE(check("::1", "[::1]", v6).has_value());
  }
}

TEST_CASE("bad allow-list entries are rejected", "[http][ssrf]") {
  CHECK_THROWS_AS(AllowList({"10.0.0.0/33"}), std::invalid_argument);
  CHECK_THROWS_AS(AllowList({"::/129"}), std::invalid_argument);
  CHECK_THROWS_AS(AllowList({"10.0.0.0/"}), std::invalid_argument);
  CHECK_THROWS_AS(AllowList({"host name"}), std::invalid_argument);
  CHECK_THROWS_AS(AllowList({"name/8"}), std::invalid_argument);
  CHECK_THROWS_AS(AllowList({""}), std::invalid_argument);
}

TEST_CASE("the http client config is parsed and its allow-list checked", "[http][ssrf][config]") {
  auto doc = config::Document::load_string(
      "http_client:\n"
      "  max_connections: 64\n"
      "  max_host_connections: 8\n"
      "  user_agent: test-agent\n"
      "  allow_private: [localhost, 10.0.0.0/8]\n",
      "test.yaml");
  auto c = http::parse_http_client_config(doc.root().section("http_client"));
  CHECK(c.max_connections == 64);
  CHECK(c.max_host_connections == 8);
  CHECK(c.user_agent == "test-agent");
  CHECK(c.allow_private == std::vector<std::string>{"localhost", "10.0.0.0/8"});
  CHECK(c.ca_file.empty());

  auto bad = config::Document::load_string("http_client:\n  allow_private: [10.0.0.0/40]\n", "test.yaml");
  CHECK_THROWS_WITH(http::parse_http_client_config(bad.root().section("http_client")),
                    Catch::Matchers::Contains("allow_private") && Catch::Matchers::Contains("10.0.0.0/40"));
  auto missing = config::Document::load_string("http_client:\n  ca_file: /nonexistent/ca.pem\n", "test.yaml");
  CHECK_THROWS_WITH(http::parse_http_client_config(missing.root().section("http_client")),
                    Catch::Matchers::Contains("ca_file"));
}
