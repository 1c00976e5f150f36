// An asset as the API shows it: metadata, status, analysis, and signed URLs
// for the original, grid, poster and rendition (valid for media.link_ttl).
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>

#include "huntaze/core/clock.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "media/assets.hpp"

namespace huntaze::media {

boost::json::object asset_json(const AssetRow& row, const storage::BlobStore& store, SysTime now,
                               std::chrono::seconds link_ttl);

}  // namespace huntaze::media
