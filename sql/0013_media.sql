-- Media assets: uploaded videos, what was made from them (keyframe grid,
-- poster, transcript, vision analysis, rendition) and where the bytes are.
-- Written only by the media module.
--
-- Life of an asset:
--   awaiting_upload  a presigned direct upload (S3) was handed out; the
--                    client PUTs the file and calls /complete
--   uploaded         the original is stored; media.process is enqueued in the
--                    same transaction
--   processing       a worker holds it (attempts counts the tries)
--   ready | failed   failure_code / failure_reason say why it failed
-- Blob keys name objects in the configured BlobStore; a null key means the
-- object does not exist (never made, or deleted by the retention setting).

CREATE TABLE media.assets (
  id uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('awaiting_upload', 'uploaded', 'processing', 'ready', 'failed')),
  original_name text NOT NULL DEFAULT '',
  container text,                     -- sniffed from the bytes: mp4 | matroska
  content_type text,                  -- what we serve it as, from the sniffed container
  size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),  -- of the original
  sha256 bytea,                       -- of the original; null until it arrived
  original_key text,
  grid_key text,
  poster_key text,
  rendition_key text,
  rendition_bytes bigint NOT NULL DEFAULT 0 CHECK (rendition_bytes >= 0),
  stored_bytes bigint NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0),  -- everything above that exists
  probe jsonb,                        -- duration, codecs, dimensions, rotation, ...
  transcript text,
  analysis jsonb,                     -- the validated vision answer
  analysis_error text,                -- why there is no analysis (the asset is still ready)
  failure_code text,
  failure_reason text,
  attempts integer NOT NULL DEFAULT 0,
  uploaded_by uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  processed_at timestamptz,           -- when it became ready (billing counts these per month)
  original_deleted_at timestamptz,
  CHECK (status = 'awaiting_upload' OR sha256 IS NOT NULL)
);
-- Dedupe: one asset per content per workspace (the same upload twice
-- answers with the first one).
CREATE UNIQUE INDEX assets_dedupe ON media.assets (workspace_id, sha256);
CREATE INDEX assets_by_workspace ON media.assets (workspace_id, created_at DESC, id DESC);
-- Billing: videos processed per month.
CREATE INDEX assets_processed ON media.assets (workspace_id, processed_at) WHERE processed_at IS NOT NULL;
-- Lifecycle: abandoned direct uploads; originals past their keep time.
CREATE INDEX assets_awaiting ON media.assets (created_at) WHERE status = 'awaiting_upload';
CREATE INDEX assets_originals ON media.assets (processed_at) WHERE status = 'ready' AND original_key IS NOT NULL;

-- Per-workspace media settings (a missing row means the defaults).
CREATE TABLE media.settings (
  workspace_id uuid PRIMARY KEY REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  delete_originals boolean NOT NULL DEFAULT false,  -- delete the original once processed (grid, poster and rendition stay)
  updated_at timestamptz NOT NULL
);
