#include "media/media_json.hpp"

#include <boost/json.hpp>

#include "huntaze/core/digest.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/http/json_api.hpp"

namespace huntaze::media {

namespace json = boost::json;

namespace {

json::value parsed_or_null(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  return ec ? json::value(nullptr) : v;
}

std::string download_name(const AssetRow& a, std::string_view fallback) {
  return a.original_name.empty() ? std::string(fallback) : a.original_name;
}

}  // namespace

json::object asset_json(const AssetRow& a, const storage::BlobStore& store, SysTime now,
                        std::chrono::seconds link_ttl) {
  const SysTime expires = now + link_ttl;
  const auto expires_at = std::chrono::time_point_cast<std::chrono::system_clock::duration>(expires);
  auto url = [&](const std::optional<std::string>& key, std::string_view name) -> json::value {
    if (!key) return nullptr;
    return json::value(store.download_url(*key, expires_at, name));
  };
  const bool has_urls = a.original_key || a.grid_key || a.poster_key || a.rendition_key;
  json::value failure = nullptr;
  if (a.failure_code) failure = json::object{{"code", *a.failure_code}, {"reason", a.failure_reason.value_or("")}};
  return json::object{{"id", a.id.str()},
                      {"status", a.status},
                      {"name", a.original_name},
                      {"container", http::text_or_null(a.container)},
                      {"content_type", http::text_or_null(a.content_type)},
                      {"size_bytes", a.size_bytes},
                      {"sha256", a.sha256 ? json::value(to_hex(*a.sha256)) : json::value(nullptr)},
                      {"stored_bytes", a.stored_bytes},
                      {"probe", parsed_or_null(a.probe_json)},
                      {"transcript", http::text_or_null(a.transcript)},
                      {"analysis", parsed_or_null(a.analysis_json)},
                      {"analysis_error", http::text_or_null(a.analysis_error)},
                      {"failure", failure},
                      {"attempts", a.attempts},
                      {"urls", json::object{{"original", url(a.original_key, download_name(a, "original"))},
                                            {"grid", url(a.grid_key, "")},
                                            {"poster", url(a.poster_key, "")},
                                            {"rendition", url(a.rendition_key, "")}}},
                      {"urls_expire_at", has_urls ? json::value(format_iso8601(expires)) : json::value(nullptr)},
                      {"created_at", format_iso8601(a.created_at)},
                      {"updated_at", format_iso8601(a.updated_at)},
                      {"processed_at", http::time_or_null(a.processed_at)}};
}

}  // namespace huntaze::media
