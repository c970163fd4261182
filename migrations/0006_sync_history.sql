-- Sync history: each synchronisation of a project with its git repository.
--
-- Why: an append-only log (bigint identity key), newest first per project.
-- A run is pending or running until it finishes as succeeded or failed; the
-- CHECKs keep status, finished_at and error consistent, and a partial unique
-- index allows at most one unfinished run per project. Commit SHAs are stored
-- lower-case, SHA-1 (40) or SHA-256 (64) hex.
-- depends: 0005_task_dependencies

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE sync_history (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    project_id   uuid        NOT NULL,
    commit_sha   text        NOT NULL,
    status       text        NOT NULL DEFAULT 'running',
    error        text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CONSTRAINT sync_history_pkey PRIMARY KEY (id),
    CONSTRAINT sync_history_project_id_fkey
        FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT sync_history_commit_sha_format
        CHECK (commit_sha ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
    CONSTRAINT sync_history_status_valid
        CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    CONSTRAINT sync_history_finished_iff_done
        CHECK ((finished_at IS NOT NULL) = (status IN ('succeeded', 'failed'))),
    CONSTRAINT sync_history_finished_after_start CHECK (finished_at >= started_at),
    CONSTRAINT sync_history_error_only_on_failure CHECK (error IS NULL OR status = 'failed')
);

-- Latest run and history pages per project, newest first (also the foreign key's cascade).
CREATE INDEX sync_history_project_id_started_at_idx
    ON sync_history (project_id, started_at, id) INCLUDE (status);
-- At most one unfinished run per project.
CREATE UNIQUE INDEX sync_history_one_unfinished_per_project_key
    ON sync_history (project_id) WHERE status IN ('pending', 'running');
