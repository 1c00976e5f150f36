-- bench/content.sh: :count messages straight into partition
-- content.:part, sent between :'c_lo' and :'c_hi', global numbers :first ..
-- :first + :count - 1. Message number g belongs to fan bulk-(g % :fans), and
-- the messages come in time order, one slot of the chunk each (with jitter),
-- as a live table receives them: the heap in time order, appends to the
-- (creator_id, sent_at) index, inserts all over the primary key.
-- The foreign-key trigger to content.fans is skipped (session_replication_role
-- = replica): every fan_id comes from content.fans by construction. Both
-- indexes of the table are maintained as in production.
SET synchronous_commit = off;
SET session_replication_role = replica;
SET TIME ZONE 'UTC';
INSERT INTO content.:part (fan_id, sent_at, id, creator_id, incoming, body)
SELECT f.id,
       least(:'c_lo'::timestamptz + (:'c_hi'::timestamptz - :'c_lo'::timestamptz) * ((g - :first + random()) / :count),
             :'c_hi'::timestamptz - interval '1 microsecond'),
       gen_random_uuid(), :'ws', g % 3 <> 0,
       left('hey you, thanks so much for the tip! I have a new set coming this weekend, want a sneak peek before everyone else?',
            16 + (g * 37) % 100)
  FROM generate_series(:first, :first + :count - 1) AS g
  JOIN content.fans f ON f.creator_id = :'ws' AND f.platform = 'onlyfans' AND f.platform_fan_id = 'bulk-' || (g % :fans);
