-- A fencing token for job results. Every claim takes a new lease; a worker
-- writes a result, a heartbeat or a hand-back only under the lease it
-- claimed with. `attempt` cannot serve: an operator's retry resets it, so a
-- job cancelled mid-run, retried and claimed again would carry the same
-- attempt number as the handler still unwinding from the first run.
ALTER TABLE jobs.jobs ADD COLUMN lease bigint NOT NULL DEFAULT 0;
