-- Tasks. Rows map to dal.tasks.Task. The dynamic list (optional filters, sort
-- keys, keyset cursor) is built in dal/_task_list.py, not here.

-- name: insert
-- Create a task; the database fills id, version and timestamps.
INSERT INTO tasks (owner_id, project_id, key, parent_id, category_id, title, description,
                   status, priority, due_at, data)
VALUES (%(owner_id)s, %(project_id)s, %(key)s, %(parent_id)s, %(category_id)s, %(title)s,
        %(description)s, %(status)s, %(priority)s, %(due_at)s, %(data)s)
RETURNING id, owner_id, project_id, key, parent_id, category_id, title, description,
          status, priority, due_at, data, version, created_at, updated_at;

-- name: get_by_id
-- One task by primary key.
SELECT id, owner_id, project_id, key, parent_id, category_id, title, description,
       status, priority, due_at, data, version, created_at, updated_at
  FROM tasks
 WHERE id = %(id)s;

-- name: get_many
-- Several tasks by primary key, in the order of the ids given (tasks_pkey, one probe each).
SELECT t.id, t.owner_id, t.project_id, t.key, t.parent_id, t.category_id, t.title,
       t.description, t.status, t.priority, t.due_at, t.data, t.version, t.created_at,
       t.updated_at
  FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS asked (id, position)
  JOIN tasks AS t ON t.id = asked.id
 ORDER BY asked.position;

-- name: update
-- Change the given fields (set_<col> flags); with check_version, only if version still matches.
-- The flags cannot change the plan: the primary key finds the one row either way.
UPDATE tasks
   SET key         = CASE WHEN %(set_key)s THEN %(key)s ELSE key END,
       category_id = CASE WHEN %(set_category_id)s THEN %(category_id)s ELSE category_id END,
       title       = CASE WHEN %(set_title)s THEN %(title)s ELSE title END,
       description = CASE WHEN %(set_description)s THEN %(description)s ELSE description END,
       status      = CASE WHEN %(set_status)s THEN %(status)s ELSE status END,
       priority    = CASE WHEN %(set_priority)s THEN %(priority)s ELSE priority END,
       due_at      = CASE WHEN %(set_due_at)s THEN %(due_at)s ELSE due_at END,
       data        = CASE WHEN %(set_data)s THEN %(data)s ELSE data END
 WHERE id = %(id)s
   AND (NOT %(check_version)s OR version = %(expected_version)s)
RETURNING id, owner_id, project_id, key, parent_id, category_id, title, description,
          status, priority, due_at, data, version, created_at, updated_at;

-- name: delete
-- Remove a task; its subtasks and dependency edges go with it.
DELETE FROM tasks WHERE id = %(id)s;

-- name: bulk_set_status
-- Set one status on several of a user's tasks at once (tasks_pkey).
UPDATE tasks
   SET status = %(status)s
 WHERE id = ANY(%(ids)s)
   AND owner_id = %(owner_id)s
   AND status <> %(status)s;

-- name: list_for_project
-- Every task of a project, for the task tree (tasks_project_id_key_key).
SELECT id, owner_id, project_id, key, parent_id, category_id, title, description,
       status, priority, due_at, data, version, created_at, updated_at
  FROM tasks
 WHERE project_id = %(project_id)s;

-- name: project_exists
-- Whether the project is there, for the task tree's NotFound (projects_pkey).
SELECT EXISTS (SELECT 1 FROM projects WHERE id = %(project_id)s);

-- name: list_dependency_edges
-- Every dependency edge between a project's tasks, for the task tree (task_dependencies_project_id_idx).
SELECT task_id, depends_on_id
  FROM task_dependencies
 WHERE project_id = %(project_id)s;

-- name: overdue
-- A user's open tasks due before a moment, most overdue first (tasks_owner_id_due_at_open_idx).
SELECT id, owner_id, project_id, key, parent_id, category_id, title, description,
       status, priority, due_at, data, version, created_at, updated_at
  FROM tasks
 WHERE owner_id = %(owner_id)s
   AND due_at < %(as_of)s
   AND status NOT IN ('completed', 'done', 'cancelled')
 ORDER BY due_at, id
 LIMIT %(limit)s;

-- name: counts_by_status
-- Number of a user's tasks per status (index-only scan of tasks_owner_id_status_idx).
SELECT status, count(*)
  FROM tasks
 WHERE owner_id = %(owner_id)s
 GROUP BY status;
