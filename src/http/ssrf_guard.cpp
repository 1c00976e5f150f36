#include "http/ssrf_guard.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace huntaze::http::ssrf {

namespace {

namespace ip = boost::asio::ip;

bool in_v4(uint32_t a, uint32_t net, unsigned prefix) noexcept {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

constexpr uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return a << 24 | b << 16 | c << 8 | d;
}

AddressClass classify_v4(uint32_t a) noexcept {
  if (in_v4(a, v4(0, 0, 0, 0), 8)) return AddressClass::unspecified;
  if (in_v4(a, v4(10, 0, 0, 0), 8)) return AddressClass::private_net;
  if (in_v4(a, v4(100, 64, 0, 0), 10)) return AddressClass::private_net;
  if (in_v4(a, v4(127, 0, 0, 0), 8)) return AddressClass::loopback;
  if (in_v4(a, v4(169, 254, 0, 0), 16)) return AddressClass::link_local;
  if (in_v4(a, v4(172, 16, 0, 0), 12)) return AddressClass::private_net;
  if (in_v4(a, v4(192, 0, 0, 0), 24)) return AddressClass::reserved;
  if (in_v4(a, v4(192, 168, 0, 0), 16)) return AddressClass::private_net;
  if (in_v4(a, v4(198, 18, 0, 0), 15)) return AddressClass::reserved;
  if (in_v4(a, v4(224, 0, 0, 0), 4)) return AddressClass::multicast;
  if (in_v4(a, v4(240, 0, 0, 0), 4)) return AddressClass::reserved;  // includes 255.255.255.255
  return AddressClass::global;
}

uint32_t v4_at(const ip::address_v6::bytes_type& b, size_t i) noexcept {
  return uint32_t{b[i]} << 24 | uint32_t{b[i + 1]} << 16 | uint32_t{b[i + 2]} << 8 | uint32_t{b[i + 3]};
}

bool zeros(const ip::address_v6::bytes_type& b, size_t from, size_t to) noexcept {
  return std::all_of(b.begin() + from, b.begin() + to, [](uint8_t x) { return x == 0; });
}

// The IPv4 address an IPv6 address stands for, when it embeds one that a
// host or gateway would actually reach.
std::optional<uint32_t> embedded_v4(const ip::address_v6::bytes_type& b) noexcept {
  if (zeros(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return v4_at(b, 12);  // ::ffff:a.b.c.d (mapped)
  if (zeros(b, 0, 12)) return v4_at(b, 12);                                    // ::a.b.c.d (compatible)
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zeros(b, 4, 12))
    return v4_at(b, 12);                                 // 64:ff9b::/96 (NAT64)
  if (b[0] == 0x20 && b[1] == 0x02) return v4_at(b, 2);  // 2002::/16 (6to4)
  return std::nullopt;
}

AddressClass classify_v6(const ip::address_v6::bytes_type& b) noexcept {
  if (zeros(b, 0, 16)) return AddressClass::unspecified;
  if (zeros(b, 0, 15) && b[15] == 1) return AddressClass::loopback;
  if (auto embedded = embedded_v4(b)) return classify_v4(*embedded);
  if (b[0] == 0xff) return AddressClass::multicast;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::link_local;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::private_net;  // fec0::/10, deprecated site-local
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::unique_local;
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return AddressClass::private_net;  // 64:ff9b:1::/48
  if (b[0] == 0x01 && zeros(b, 1, 8)) return AddressClass::reserved;  // 100::/64, discard-only
  return AddressClass::global;
}

std::string normalize_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_'; });
}

// An IPv4-mapped address is the IPv4 address as far as networks go.
ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

AddressClass classify(const ip::address& address) noexcept {
  if (address.is_v4()) return classify_v4(address.to_v4().to_uint());
  return classify_v6(address.to_v6().to_bytes());
}

std::string_view to_string(AddressClass c) noexcept {
  switch (c) {
    case AddressClass::global:
      return "global";
    case AddressClass::private_net:
      return "private";
    case AddressClass::loopback:
      return "loopback";
    case AddressClass::link_local:
      return "link-local";
    case AddressClass::unique_local:
      return "unique-local";
    case AddressClass::unspecified:
      return "unspecified";
    case AddressClass::multicast:
      return "multicast";
    case AddressClass::reserved:
      return "reserved";
  }
  return "unknown";
}

AllowList::AllowList(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    std::string_view text = entry;
    unsigned prefix = 0;
    bool has_prefix = false;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      auto digits = text.substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
        throw std::invalid_argument("'" + entry + "' is not a host, an address or a CIDR network");
      text = text.substr(0, slash);
      has_prefix = true;
    }
    boost::system::error_code ec;
    auto address = ip::make_address(normalize_host(text), ec);
    if (ec) {
      if (has_prefix || !valid_host_name(text))
        throw std::invalid_argument("'" + entry + "' is not a host, an address or a CIDR network");
      hosts_.push_back(normalize_host(text));
      continue;
    }
    address = unmapped(address);
    Network n{};
    n.v6 = address.is_v6();
    unsigned max_prefix = n.v6 ? 128 : 32;
    n.prefix = has_prefix ? prefix : max_prefix;
    if (n.prefix > max_prefix) throw std::invalid_argument("'" + entry + "': prefix longer than the address");
    if (n.v6) {
      n.bytes = address.to_v6().to_bytes();
    } else {
      auto b = address.to_v4().to_bytes();
      std::copy(b.begin(), b.end(), n.bytes.begin());
    }
    networks_.push_back(n);
  }
}

bool AllowList::allows(const ip::address& raw, std::string_view host) const {
  if (!host.empty()) {
    auto h = normalize_host(host);
    if (std::find(hosts_.begin(), hosts_.end(), h) != hosts_.end()) return true;
  }
  auto address = unmapped(raw);
  std::array<uint8_t, 16> bytes{};
  if (address.is_v6()) {
    bytes = address.to_v6().to_bytes();
  } else {
    auto b = address.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  }
  for (const auto& n : networks_) {
    if (n.v6 != address.is_v6()) continue;
    unsigned full = n.prefix / 8, rest = n.prefix % 8;
    if (!std::equal(bytes.begin(), bytes.begin() + full, n.bytes.begin())) continue;
    if (rest != 0) {
      auto mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((bytes[full] & mask) != (n.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::optional<std::string> check(const ip::address& address, std::string_view host, const AllowList& allow) {
  auto c = classify(address);
  if (c == AddressClass::global || allow.allows(address, host)) return std::nullopt;
  std::string reason = "address ";
  reason += address.to_string();
  reason += " is ";
  reason += to_string(c);
  reason += " and not allowed for untrusted URLs";
  return reason;
}

}  // namespace huntaze::http::ssrf
