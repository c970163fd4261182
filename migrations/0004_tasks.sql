-- Tasks: what a user has to do, optionally inside a project, as a tree of subtasks.
--
-- Why these choices:
-- * status and priority are text + CHECK rather than enums. A CHECK violation
--   names its constraint (the DAL maps errors by that name; a bad enum literal
--   is only "invalid input value"), and the value set can change in one
--   transactional migration (an enum value can never be dropped). The statuses
--   are the union of TaskTracker (pending, in_progress, completed) and Task
--   Master (pending, in-progress -> in_progress, done, review, deferred,
--   cancelled, blocked), so an import keeps every distinction.
-- * priority_rank is a stored generated column so "most urgent first" is an
--   ordinary index order; priority stays readable text.
-- * A task's category must belong to the task's owner: the composite foreign
--   key (category_id, owner_id) -> categories (id, owner_id) enforces it, and
--   ON DELETE SET NULL (category_id) clears only the category (PostgreSQL 15+).
-- * key is the project-scoped identifier ("12", "12.3"), unique per project;
--   a task without a project has no key. A subtask's parent must be in the same
--   project (composite foreign key on (parent_id, project_id)); subtasks go
--   with their parent.
-- * version is bumped by a trigger on every update: writers do optimistic
--   concurrency control with "UPDATE ... WHERE id = $1 AND version = $2".
-- * Sort orders keyset pagination needs are (owner_id, <sort key>, id)
--   indexes; due dates sort NULLs last by indexing coalesce(due_at, 'infinity')
--   (due dates must be finite, so the two never meet).
-- depends: 0003_categories

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION bump_version() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION bump_version() IS
    'BEFORE UPDATE trigger: increments version, the optimistic-concurrency token.';

CREATE TABLE tasks (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    owner_id       uuid        NOT NULL,
    project_id     uuid,
    key            text,
    parent_id      uuid,
    category_id    uuid,
    title          text        NOT NULL,
    description    text,
    status         text        NOT NULL DEFAULT 'pending',
    priority       text        NOT NULL DEFAULT 'medium',
    priority_rank  smallint    NOT NULL GENERATED ALWAYS AS (
        CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END
    ) STORED,
    due_at         timestamptz,
    data           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version        integer     NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tasks_pkey PRIMARY KEY (id),
    -- Targets of the composite foreign keys from subtasks and task_dependencies.
    CONSTRAINT tasks_id_project_id_key UNIQUE (id, project_id),
    CONSTRAINT tasks_project_id_key_key UNIQUE (project_id, key),
    CONSTRAINT tasks_owner_id_fkey
        FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT tasks_project_id_fkey
        FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT tasks_parent_id_fkey
        FOREIGN KEY (parent_id) REFERENCES tasks (id) ON DELETE CASCADE,
    CONSTRAINT tasks_parent_same_project_fkey
        FOREIGN KEY (parent_id, project_id) REFERENCES tasks (id, project_id),
    CONSTRAINT tasks_category_owner_fkey
        FOREIGN KEY (category_id, owner_id) REFERENCES categories (id, owner_id)
        ON DELETE SET NULL (category_id),
    -- Keys come from other tools too (Task Master "12.3", spec-kit "T001", slugs):
    -- any short token without whitespace.
    CONSTRAINT tasks_key_format CHECK (key ~ '^[^[:space:]]{1,100}$'),
    CONSTRAINT tasks_key_needs_project CHECK (key IS NULL OR project_id IS NOT NULL),
    CONSTRAINT tasks_not_own_parent CHECK (parent_id <> id),
    CONSTRAINT tasks_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT tasks_title_not_blank CHECK (title ~ '[^[:space:]]'),
    CONSTRAINT tasks_status_valid CHECK (status IN (
        'pending', 'in_progress', 'completed', 'done', 'review', 'deferred', 'cancelled', 'blocked'
    )),
    CONSTRAINT tasks_priority_valid CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT tasks_due_at_finite CHECK (isfinite(due_at)),
    CONSTRAINT tasks_data_is_object CHECK (jsonb_typeof(data) = 'object'),
    CONSTRAINT tasks_version_positive CHECK (version > 0)
);

COMMENT ON TABLE tasks IS 'Work items of a user, optionally in a project, nested as subtasks.';
COMMENT ON COLUMN tasks.key IS 'Project-scoped id such as 12 or 12.3 (Task Master ids); NULL outside projects.';
COMMENT ON COLUMN tasks.version IS 'Bumped on every update (trigger); optimistic concurrency token.';

-- A user's tasks in each sort order of list_for_user; each also serves the owner foreign key.
CREATE INDEX tasks_owner_id_due_at_idx
    ON tasks (owner_id, (coalesce(due_at, 'infinity'::timestamptz)), id);
CREATE INDEX tasks_owner_id_priority_rank_idx ON tasks (owner_id, priority_rank, id);
CREATE INDEX tasks_owner_id_created_at_idx ON tasks (owner_id, created_at, id);
CREATE INDEX tasks_owner_id_updated_at_idx ON tasks (owner_id, updated_at, id);
-- Counts by status: an index-only scan per owner.
CREATE INDEX tasks_owner_id_status_idx ON tasks (owner_id, status);
-- Overdue tasks: only open tasks with a due date, in due order.
CREATE INDEX tasks_owner_id_due_at_open_idx
    ON tasks (owner_id, due_at, id)
    WHERE due_at IS NOT NULL AND status NOT IN ('completed', 'done', 'cancelled');
-- Subtask lookups and the parent foreign key's cascade.
CREATE INDEX tasks_parent_id_idx ON tasks (parent_id) WHERE parent_id IS NOT NULL;
-- The category foreign key's SET NULL, the category filter and per-category counts.
CREATE INDEX tasks_category_id_idx ON tasks (category_id) WHERE category_id IS NOT NULL;

CREATE TRIGGER tasks_bump_version
    BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION bump_version();

CREATE TRIGGER tasks_set_updated_at
    BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
