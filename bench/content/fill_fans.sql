-- bench/content.sh: :fans fans of workspace :'ws' on platform onlyfans,
-- platform ids bulk-0 .. bulk-(:fans - 1), for the conversation timeline.
SET synchronous_commit = off;
INSERT INTO content.fans (id, creator_id, platform, platform_fan_id, handle, created_at, updated_at)
SELECT gen_random_uuid(), :'ws', 'onlyfans', 'bulk-' || g, 'fan_' || g, now(), now()
  FROM generate_series(0, :fans - 1) AS g;
