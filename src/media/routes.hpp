// What the media routes share (see media_module.hpp for the route list).
#pragma once

#include "huntaze/auth/access.hpp"
#include "huntaze/content/plans.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/http/router.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "media/assets.hpp"
#include "media/media_config.hpp"

namespace huntaze::storage {
class LocalBlobStore;
}

namespace huntaze::media {

struct RouteDeps {
  Assets& assets;
  storage::BlobStore& store;
  Compute& compute;
  const Clock& clock;
  auth::Guard& guard;
  content::PlanLimitSource& plans;
  const MediaConfig& config;
};

void register_media_routes(http::Router& router, const RouteDeps& deps);
// Serves the local store's signed links; registers nothing for S3.
void register_file_route(http::Router& router, storage::LocalBlobStore& store, Compute& compute, const Clock& clock);

}  // namespace huntaze::media
