-- media.assets.stored_bytes was kept by hand in four statements (upload,
-- processing, rendition, lifecycle), each re-deriving it from the others'
-- columns. It is now computed by PostgreSQL from what each part weighs:
-- the original while it exists, the grid and poster (derived_bytes), the
-- rendition. The quota check, the API and the invoice read it as before.

ALTER TABLE media.assets ADD COLUMN derived_bytes bigint NOT NULL DEFAULT 0 CHECK (derived_bytes >= 0);
UPDATE media.assets
   SET derived_bytes = greatest(stored_bytes - rendition_bytes
                                - CASE WHEN original_key IS NULL THEN 0 ELSE size_bytes END, 0);
ALTER TABLE media.assets DROP COLUMN stored_bytes;
ALTER TABLE media.assets ADD COLUMN stored_bytes bigint GENERATED ALWAYS AS (
  CASE WHEN original_key IS NULL THEN 0 ELSE size_bytes END + derived_bytes + rendition_bytes) STORED;
