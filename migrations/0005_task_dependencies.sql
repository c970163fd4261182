-- Task dependencies: "task_id cannot start before depends_on_id is done".
--
-- Why: the primary key rejects duplicates and a CHECK rejects a task depending
-- on itself. Both tasks must be in the same project: project_id is copied from
-- the task by a trigger (writers, such as the Task Master importer, insert only
-- task_id and depends_on_id) and two composite foreign keys to
-- tasks (id, project_id) then make a cross-project edge impossible. Longer
-- cycles are a graph property no constraint can express: the DAL rejects them
-- when an edge is added, under a per-project advisory lock.
-- depends: 0004_tasks

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION task_dependencies_set_project_id() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.project_id := (SELECT project_id FROM tasks WHERE id = NEW.task_id);
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION task_dependencies_set_project_id() IS
    'BEFORE INSERT/UPDATE trigger: copies the dependent task''s project for the same-project foreign keys.';

CREATE TABLE task_dependencies (
    task_id        uuid        NOT NULL,
    depends_on_id  uuid        NOT NULL,
    -- Filled by the trigger; a CHECK rather than NOT NULL so the violation has a name.
    project_id     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_dependencies_pkey PRIMARY KEY (task_id, depends_on_id),
    CONSTRAINT task_dependencies_not_self CHECK (task_id <> depends_on_id),
    CONSTRAINT task_dependencies_project_required CHECK (project_id IS NOT NULL),
    CONSTRAINT task_dependencies_task_fkey
        FOREIGN KEY (task_id, project_id) REFERENCES tasks (id, project_id) ON DELETE CASCADE,
    CONSTRAINT task_dependencies_depends_on_fkey
        FOREIGN KEY (depends_on_id, project_id) REFERENCES tasks (id, project_id)
        ON DELETE CASCADE
);

-- "What depends on this task" and the depends_on foreign key's cascade.
CREATE INDEX task_dependencies_depends_on_id_idx ON task_dependencies (depends_on_id, task_id);
-- A project's whole dependency graph (task tree).
CREATE INDEX task_dependencies_project_id_idx ON task_dependencies (project_id);

CREATE TRIGGER task_dependencies_set_project_id
    BEFORE INSERT OR UPDATE OF task_id ON task_dependencies
    FOR EACH ROW EXECUTE FUNCTION task_dependencies_set_project_id();
