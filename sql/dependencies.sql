-- Task dependencies: task_id waits for depends_on_id. Rows map to dal.dependencies.Dependency.

-- name: lock_project_graph
-- Serialise dependency changes within one project (transaction-scoped advisory lock).
SELECT pg_advisory_xact_lock(hashtextextended('task_dependencies:' || %(project_id)s::text, 0));

-- name: reaches
-- Whether one task waits, directly or not, for another; each task visited once (task_dependencies_pkey).
WITH RECURSIVE reach (id) AS (
    SELECT d.depends_on_id
      FROM task_dependencies AS d
     WHERE d.task_id = %(from_id)s
    UNION
    SELECT d.depends_on_id
      FROM reach AS r
      JOIN task_dependencies AS d ON d.task_id = r.id
)
SELECT EXISTS (SELECT 1 FROM reach WHERE id = %(to_id)s);

-- name: insert
-- Record that task_id depends on depends_on_id; a trigger fills project_id.
INSERT INTO task_dependencies (task_id, depends_on_id)
VALUES (%(task_id)s, %(depends_on_id)s)
RETURNING task_id, depends_on_id, project_id, created_at;

-- name: delete
-- Remove one dependency edge.
DELETE FROM task_dependencies
 WHERE task_id = %(task_id)s AND depends_on_id = %(depends_on_id)s;

-- name: list_depends_on
-- The tasks a task waits for (task_dependencies_pkey, then tasks_pkey).
SELECT t.id, t.owner_id, t.project_id, t.key, t.parent_id, t.category_id, t.title,
       t.description, t.status, t.priority, t.due_at, t.data, t.version, t.created_at,
       t.updated_at
  FROM task_dependencies AS d
  JOIN tasks AS t ON t.id = d.depends_on_id
 WHERE d.task_id = %(task_id)s
 ORDER BY d.created_at, t.id;

-- name: list_dependents
-- The tasks waiting for a task (task_dependencies_depends_on_id_idx, then tasks_pkey).
SELECT t.id, t.owner_id, t.project_id, t.key, t.parent_id, t.category_id, t.title,
       t.description, t.status, t.priority, t.due_at, t.data, t.version, t.created_at,
       t.updated_at
  FROM task_dependencies AS d
  JOIN tasks AS t ON t.id = d.task_id
 WHERE d.depends_on_id = %(task_id)s
 ORDER BY d.created_at, t.id;

-- name: list_for_project
-- Every dependency edge of a project, for the task tree (task_dependencies_project_id_idx).
SELECT task_id, depends_on_id, project_id, created_at
  FROM task_dependencies
 WHERE project_id = %(project_id)s;
