-- Synchronisations of a project with its git repository. Rows map to dal.sync_history.SyncRun.

-- name: start
-- Record a run that is starting (running) or queued (pending).
INSERT INTO sync_history (project_id, commit_sha, status)
VALUES (%(project_id)s, %(commit_sha)s, %(status)s)
RETURNING id, project_id, commit_sha, status, error, started_at, finished_at;

-- name: begin
-- Move a queued run to running (sync_history_pkey); no row if it is not pending.
UPDATE sync_history
   SET status = 'running'
 WHERE id = %(id)s AND status = 'pending'
RETURNING id, project_id, commit_sha, status, error, started_at, finished_at;

-- name: finish
-- Close an unfinished run as succeeded or failed (sync_history_pkey).
UPDATE sync_history
   SET status = %(status)s, error = %(error)s, finished_at = greatest(now(), started_at)
 WHERE id = %(id)s AND status IN ('pending', 'running')
RETURNING id, project_id, commit_sha, status, error, started_at, finished_at;

-- name: get_by_id
-- One run by primary key.
SELECT id, project_id, commit_sha, status, error, started_at, finished_at
  FROM sync_history
 WHERE id = %(id)s;

-- name: latest_for_projects
-- The newest run of each given project (sync_history_project_id_started_at_idx, once per project).
SELECT s.id, s.project_id, s.commit_sha, s.status, s.error, s.started_at, s.finished_at
  FROM unnest(%(project_ids)s::uuid[]) AS p (id)
  CROSS JOIN LATERAL (
        SELECT h.id, h.project_id, h.commit_sha, h.status, h.error, h.started_at, h.finished_at
          FROM sync_history AS h
         WHERE h.project_id = p.id
         ORDER BY h.started_at DESC, h.id DESC
         LIMIT 1
       ) AS s;

-- name: history_first_page
-- A project's runs, newest first (sync_history_project_id_started_at_idx, backwards).
SELECT id, project_id, commit_sha, status, error, started_at, finished_at
  FROM sync_history
 WHERE project_id = %(project_id)s
 ORDER BY started_at DESC, id DESC
 LIMIT %(limit)s;

-- name: history_page_after
-- The runs older than a (started_at, id) cursor (sync_history_project_id_started_at_idx).
SELECT id, project_id, commit_sha, status, error, started_at, finished_at
  FROM sync_history
 WHERE project_id = %(project_id)s
   AND (started_at, id) < (%(after_started_at)s, %(after_id)s)
 ORDER BY started_at DESC, id DESC
 LIMIT %(limit)s;
