-- One schema per module; each module is the only writer of its own schema
-- (analytics may read the others). Tables arrive with each module's migrations.
CREATE SCHEMA IF NOT EXISTS auth;
COMMENT ON SCHEMA auth IS 'owned by the auth module: users, workspaces, memberships, sessions, API keys';
CREATE SCHEMA IF NOT EXISTS content;
COMMENT ON SCHEMA content IS 'owned by the content module: fans, messages, offers, posts, billing';
CREATE SCHEMA IF NOT EXISTS ai;
COMMENT ON SCHEMA ai IS 'owned by the ai_router module: usage log, budgets';
CREATE SCHEMA IF NOT EXISTS media;
COMMENT ON SCHEMA media IS 'owned by the media module: assets, renditions, analyses';
CREATE SCHEMA IF NOT EXISTS jobs;
COMMENT ON SCHEMA jobs IS 'owned by the jobs and cron modules: queue, schedules, events';
CREATE SCHEMA IF NOT EXISTS analytics;
COMMENT ON SCHEMA analytics IS 'owned by the analytics module: rollups, trends, insights';
