// The SSRF guard: which addresses a request for a user-supplied URL may reach.
//
// The outbound client applies it to the address it is about to connect to
// (after DNS, whatever spelling the URL used), so classification works on
// addresses, never on URL text. Pure functions; AllowList is immutable after
// construction and safe to share between threads.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huntaze::http::ssrf {

enum class AddressClass {
  global,        // routable on the internet: allowed
  private_net,   // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fec0::/10
  loopback,      // 127/8, ::1
  link_local,    // 169.254/16 (cloud metadata), fe80::/10
  unique_local,  // fc00::/7
  unspecified,   // 0.0.0.0/8, ::
  multicast,     // 224/4, ff00::/8
  reserved,      // 240/4 and broadcast, 192.0.0/24, 198.18/15 (benchmarking)
};

// IPv6 forms that embed an IPv4 address (::ffff:a.b.c.d, ::a.b.c.d, NAT64
// 64:ff9b::/96, 6to4 2002::/16) are classified by the embedded address.
AddressClass classify(const boost::asio::ip::address& address) noexcept;
std::string_view to_string(AddressClass c) noexcept;

// Exceptions to the guard: host names (compared case-insensitively with the
// URL's host), single addresses and CIDR networks.
class AllowList {
 public:
  AllowList() = default;
  // Throws std::invalid_argument naming an entry that is none of the three.
  explicit AllowList(const std::vector<std::string>& entries);

  bool allows(const boost::asio::ip::address& address, std::string_view host) const;

 private:
  struct Network {
    bool v6;
    std::array<uint8_t, 16> bytes;  // v4 in the first four
    unsigned prefix;
  };
  std::vector<std::string> hosts_;  // lower case, no trailing dot
  std::vector<Network> networks_;
};

// Why `address` (reached for URL host `host`) is refused, or nullopt when it
// may be used.
std::optional<std::string> check(const boost::asio::ip::address& address, std::string_view host,
                                 const AllowList& allow);

}  // namespace huntaze::http::ssrf
