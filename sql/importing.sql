-- Task-file import (dal.importers.apply): set-based reads and writes of one project's
-- tasks, matched by (project_id, key) through tasks_project_id_key_key. Batches arrive
-- as parallel arrays, one statement per batch, so a 500-task file is a few round trips.

-- name: lock_project_name
-- Serialise imports that find or create the same owner's project by name (transaction-scoped).
SELECT pg_advisory_xact_lock(
    hashtextextended('import:' || %(owner_id)s::text || ':' || %(name)s::text, 0)
);

-- name: find_projects
-- An owner's projects with exactly this name, oldest first (projects_owner_id_created_at_idx).
SELECT id, owner_id, name, git_url, created_at, updated_at
  FROM projects
 WHERE owner_id = %(owner_id)s AND name = %(name)s
 ORDER BY created_at, id;

-- name: project_tasks
-- Every keyed task of a project with its id, its parent's key and the keys it depends on.
SELECT t.id, t.key, p.key AS parent_key, t.title, t.description, t.status, t.priority, t.data,
       coalesce(e.depends_on, '{}') AS depends_on
  FROM tasks AS t
  LEFT JOIN tasks AS p ON p.id = t.parent_id
  LEFT JOIN (SELECT d.task_id, array_agg(target.key) AS depends_on
               FROM task_dependencies AS d
               JOIN tasks AS target ON target.id = d.depends_on_id
              WHERE d.project_id = %(project_id)s AND target.key IS NOT NULL
              GROUP BY d.task_id) AS e ON e.task_id = t.id
 WHERE t.project_id = %(project_id)s AND t.key IS NOT NULL;

-- name: insert_tasks
-- Create a batch of a project's tasks whose parents already exist (the caller goes by depth).
INSERT INTO tasks (owner_id, project_id, key, parent_id, title, description, status,
                   priority, data)
SELECT %(owner_id)s, %(project_id)s, n.key, p.id, n.title, n.description, n.status,
       n.priority, n.data
  FROM unnest(%(keys)s::text[], %(parent_keys)s::text[], %(titles)s::text[],
              %(descriptions)s::text[], %(statuses)s::text[], %(priorities)s::text[],
              %(data)s::jsonb[])
       AS n(key, parent_key, title, description, status, priority, data)
  LEFT JOIN tasks AS p ON p.project_id = %(project_id)s AND p.key = n.parent_key
 WHERE n.parent_key IS NULL OR p.id IS NOT NULL;

-- name: update_tasks
-- Overwrite the imported fields of a batch of a project's tasks, found by key.
UPDATE tasks AS t
   SET parent_id = p.id,
       title = u.title,
       description = u.description,
       status = u.status,
       priority = u.priority,
       data = u.data
  FROM unnest(%(keys)s::text[], %(parent_keys)s::text[], %(titles)s::text[],
              %(descriptions)s::text[], %(statuses)s::text[], %(priorities)s::text[],
              %(data)s::jsonb[])
       AS u(key, parent_key, title, description, status, priority, data)
  LEFT JOIN tasks AS p ON p.project_id = %(project_id)s AND p.key = u.parent_key
 WHERE t.project_id = %(project_id)s AND t.key = u.key
   AND (u.parent_key IS NULL OR p.id IS NOT NULL);

-- name: insert_dependencies
-- Add dependency edges given as (task key, depends-on key) pairs; a trigger fills project_id.
INSERT INTO task_dependencies (task_id, depends_on_id)
SELECT t.id, d.id
  FROM unnest(%(task_keys)s::text[], %(depends_on_keys)s::text[]) AS x(task_key, depends_on_key)
  JOIN tasks AS t ON t.project_id = %(project_id)s AND t.key = x.task_key
  JOIN tasks AS d ON d.project_id = %(project_id)s AND d.key = x.depends_on_key;

-- name: delete_dependencies
-- Remove dependency edges given as (task key, depends-on key) pairs.
DELETE FROM task_dependencies AS e
 USING unnest(%(task_keys)s::text[], %(depends_on_keys)s::text[]) AS x(task_key, depends_on_key),
       tasks AS t, tasks AS d
 WHERE t.project_id = %(project_id)s AND t.key = x.task_key
   AND d.project_id = %(project_id)s AND d.key = x.depends_on_key
   AND e.task_id = t.id AND e.depends_on_id = d.id;

-- name: delete_tasks
-- Remove a project's tasks by key; their subtasks and dependency edges go with them.
DELETE FROM tasks
 WHERE project_id = %(project_id)s AND key = ANY(%(keys)s::text[]);

-- name: pending_for_project
-- A project's dependencies waiting for a task key (task_pending_dependencies_project_id_depends_on_key_idx).
SELECT p.task_id, t.key AS task_key, p.depends_on_key
  FROM task_pending_dependencies AS p
  JOIN tasks AS t ON t.id = p.task_id
 WHERE p.project_id = %(project_id)s
 ORDER BY t.key, p.depends_on_key;

-- name: keep_pending
-- Set the pending dependencies of the given tasks (by key) to the given (task key, key) pairs.
WITH wanted AS (
    SELECT t.id AS task_id, x.depends_on_key
      FROM unnest(%(task_keys)s::text[], %(depends_on_keys)s::text[]) AS x(task_key, depends_on_key)
      JOIN tasks AS t ON t.project_id = %(project_id)s AND t.key = x.task_key
), dropped AS (
    DELETE FROM task_pending_dependencies AS p
     USING tasks AS t
     WHERE t.project_id = %(project_id)s AND t.key = ANY(%(keys)s::text[]) AND p.task_id = t.id
       AND NOT EXISTS (SELECT 1 FROM wanted AS w
                        WHERE w.task_id = p.task_id AND w.depends_on_key = p.depends_on_key)
)
INSERT INTO task_pending_dependencies (task_id, project_id, depends_on_key)
SELECT task_id, %(project_id)s, depends_on_key FROM wanted
ON CONFLICT (task_id, depends_on_key) DO NOTHING;

-- name: resolve_pending
-- Turn pending dependencies whose key a task of the project now has into real edges.
WITH resolved AS (
    DELETE FROM task_pending_dependencies AS p
     USING tasks AS t
     WHERE p.project_id = %(project_id)s AND t.project_id = p.project_id
       AND t.key = p.depends_on_key
 RETURNING p.task_id, t.id AS depends_on_id
)
INSERT INTO task_dependencies (task_id, depends_on_id)
SELECT task_id, depends_on_id FROM resolved WHERE task_id <> depends_on_id
ON CONFLICT (task_id, depends_on_id) DO NOTHING;
