-- Long administrator operations of the web app run as jobs (govwatch/live/jobs.py): the
-- re-evaluation after a rule change, a round's computation. One row per job, written by the
-- process that runs it: queued when asked for, running with its stage and progress (done of
-- total steps, NULL while unknown), then done with its summary (JSON), failed with a Chinese
-- message, or interrupted when the server stopped before it finished (marked at the next
-- start-up). params (JSON) is what the job needs to run; runner names the process that took
-- it: on PostgreSQL that process holds the advisory lock (JOBS_LOCK_CLASS, runner) while it
-- lives, so a starting process tells another live server's jobs from those of a dead one.
-- seq orders the jobs as they were asked for (created_at has whole seconds).
CREATE TABLE jobs (
    job_id VARCHAR(32) PRIMARY KEY,
    seq BIGINT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    subject VARCHAR(200) NOT NULL,
    requested_by VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    stage VARCHAR(32) NOT NULL,
    done BIGINT,
    total BIGINT,
    params VARCHAR NOT NULL,
    summary VARCHAR,
    error VARCHAR,
    runner INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_seq ON jobs (seq);
CREATE INDEX jobs_status ON jobs (status);
