#include <boost/json.hpp>

#include "huntaze/core/error.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/strings.hpp"
#include "huntaze/http/json_api.hpp"
#include "media/media_json.hpp"
#include "media/processing.hpp"
#include "media/routes.hpp"
#include "media/upload_spool.hpp"

namespace huntaze::media {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;

using auth::need;

// ?name= (the file name the user chose): kept for display and downloads
// only, never for deciding what the file is. At most 255 bytes of UTF-8,
// without path separators or control characters.
std::string upload_name(const http::Request& req) {
  std::string name = clean_utf8(req.query_param("name").value_or(""), 255);
  for (char& c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return std::string(trim(name));
}

http::Response asset_response(int status, const AssetRow& row, const RouteDeps& d, bool deduplicated = false) {
  json::object body = asset_json(row, d.store, d.clock.now(), d.config.link_ttl);
  if (deduplicated) body["deduplicated"] = true;
  return http::json_response(status, body);
}

Pass upload(const RouteDeps& d, http::Request& req, const auth::Access& who) {
  const Uuid ws = who.workspace_id;
  const std::string name = upload_name(req);
  // Refusals that need no body come first: with Expect: 100-continue the
  // client then never sends the file.
  const content::PlanLimits plan = co_await d.plans.limits(ws);
  if (!plan.usable())
    throw ApiError(402, "plan_inactive", "the workspace's plan is " + plan.status + "; uploads are paused");
  const uint64_t used = co_await d.assets.stored_bytes(ws);
  if (auto length = req.body_reader->content_length(); length && used + *length > plan.storage_bytes)
    throw storage_quota_exceeded(plan.storage_bytes, used, *length);

  SpooledUpload spooled =
      co_await spool_upload(*req.body_reader, d.config.storage.spool_dir, d.config.max_upload, d.compute);
  if (auto existing = co_await d.assets.find_by_hash(ws, spooled.sha256()))
    co_return asset_response(200, *existing, d, true);

  StoredUpload upload;
  upload.id = Uuid::v7();
  upload.workspace = ws;
  if (!who.principal.user_id.is_nil()) upload.uploaded_by = who.principal.user_id;
  upload.original_name = name;
  upload.container = spooled.kind().container;
  upload.content_type = spooled.kind().content_type;
  upload.size = spooled.size();
  upload.sha256 = spooled.sha256();
  upload.original_key = asset_key(ws, upload.id, "original." + spooled.kind().extension);
  const std::string key = upload.original_key;
  const std::string content_type = upload.content_type;
  co_await d.store.put_file(key, spooled.file(), content_type);
  spooled.release();  // the store took the file

  Assets::Admission admitted;
  std::exception_ptr refused;
  try {
    admitted = co_await d.assets.admit(upload, plan.storage_bytes);
  } catch (...) {
    refused = std::current_exception();
  }
  if (refused || admitted.duplicate) {
    // Over quota, a racing identical upload, or the database failed: the
    // stored copy goes. A failure here leaves an orphan file, logged.
    std::string problem;
    try {
      co_await d.store.remove(key);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (!problem.empty()) log::warn("media: could not remove a refused upload", {{"key", key}, {"error", problem}});
  }
  if (refused) std::rethrow_exception(refused);
  if (admitted.duplicate) co_return asset_response(200, *admitted.duplicate, d, true);
  co_return asset_response(201, *admitted.created, d);
}

Pass list(const RouteDeps& d, http::Request& req, const auth::Access& who) {
  ListFilter filter;
  filter.status = http::word_query(req, "status", {"awaiting_upload", "uploaded", "processing", "ready", "failed"});
  filter.limit = http::page_limit(req);
  if (auto cursor = http::page_cursor(req, 2))
    filter.after = std::make_pair(http::cursor_time((*cursor)[0]), http::cursor_uuid((*cursor)[1]));
  auto rows = co_await d.assets.list(who.workspace_id, filter);
  const SysTime now = d.clock.now();
  auto to_json = [&](const AssetRow& row) { return asset_json(row, d.store, now, d.config.link_ttl); };
  auto key_of = [](const json::object& last) {
    return json::array{http::cursor_value(last.at("created_at")), last.at("id")};
  };
  co_return http::json_response(200, http::page_json(rows, filter.limit, to_json, key_of));
}

Pass remove(const RouteDeps& d, http::Request& req, const auth::Access& who) {
  const Uuid id = http::path_uuid(req, "media_id", "media");
  auto keys = co_await d.assets.remove(who.workspace_id, id);
  if (!keys) throw ApiError::not_found("media not found");
  // The row is gone first: a blob whose removal fails is an orphan (logged),
  // never a row that points at nothing. A processing job still running
  // finds no row to finish.
  for (const auto& key : *keys) {
    std::string problem;
    try {
      co_await d.store.remove(key);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (!problem.empty())
      log::warn("media: could not remove a deleted asset's blob", {{"key", key}, {"error", problem}});
  }
  co_return http::Response::no_content();
}

json::object settings_json(bool delete_originals) {
  return json::object{{"delete_originals", delete_originals}};
}

Pass get_settings(const RouteDeps& d, const auth::Access& who) {
  const bool value = co_await d.assets.delete_originals(who.workspace_id);
  co_return http::json_response(200, settings_json(value));
}

Pass put_settings(const RouteDeps& d, http::Request& req, const auth::Access& who) {
  const json::object body = http::parse_object(req.body);
  const auto* flag = body.if_contains("delete_originals");
  if (!flag || !flag->is_bool() || body.size() != 1)
    throw ApiError::bad_request("the body must be {\"delete_originals\": true|false}",
                                {{"delete_originals", "invalid"}});
  const bool value = flag->get_bool();
  co_await d.assets.set_delete_originals(who.workspace_id, value);
  co_return http::json_response(200, settings_json(value));
}

}  // namespace

void register_media_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  auth::Guard& g = deps.guard;

  router.post("/api/v1/media",
              auth::guarded(g, need(auth::Role::manager, auth::scope_ingest),
                            [d](http::Request& req, const auth::Access& who) { return upload(*d, req, who); }),
              {.body_limit = deps.config.max_upload, .streamed_body = true});

  router.get("/api/v1/media",
             auth::guarded(g, need(auth::Role::viewer, auth::scope_read),
                           [d](http::Request& req, const auth::Access& who) { return list(*d, req, who); }));

  router.get("/api/v1/media/settings",
             auth::guarded(g, need(auth::Role::viewer, auth::scope_read),
                           [d](http::Request&, const auth::Access& who) { return get_settings(*d, who); }));
  router.put("/api/v1/media/settings",
             auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                           [d](http::Request& req, const auth::Access& who) { return put_settings(*d, req, who); }),
             {.body_limit = 1024});

  router.get("/api/v1/media/{media_id}", auth::guarded(g, need(auth::Role::viewer, auth::scope_read),
                                                       [d](http::Request& req, const auth::Access& who) -> Pass {
                                                         const Uuid id = http::path_uuid(req, "media_id", "media");
                                                         auto row = co_await d->assets.get(who.workspace_id, id);
                                                         if (!row) throw ApiError::not_found("media not found");
                                                         co_return asset_response(200, *row, *d);
                                                       }));

  router.post("/api/v1/media/{media_id}/reprocess",
              auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const Uuid id = http::path_uuid(req, "media_id", "media");
                              auto row = co_await d->assets.reprocess(who.workspace_id, id);
                              co_return asset_response(202, row, *d);
                            }),
              {.body_limit = 1024});

  router.del("/api/v1/media/{media_id}",
             auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                           [d](http::Request& req, const auth::Access& who) { return remove(*d, req, who); }));
}

}  // namespace huntaze::media
