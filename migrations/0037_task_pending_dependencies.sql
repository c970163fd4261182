-- Tasks: a dependency on a task the project does not have yet, kept until it arrives.
--
-- Why: Task Master writes one task_NNN.txt file per task, and each names its
-- dependencies by the ids of tasks in other files; a tasks.json may name a
-- task of another tag or file. Importing such a file alone refused it ("task 3
-- depends on 1, which does not exist"), though Task Master itself accepts it
-- (its validate-dependencies reports dangling ones). Now the importer resolves
-- a dependency against the project as the import leaves it, and keeps one it
-- cannot resolve here, by the key it names; an import that brings a task with
-- that key turns the row into a real edge in task_dependencies and deletes it.
--
-- The key is not a foreign key (it names nothing yet); it follows the format
-- of tasks.key so that it can ever match one. A pending row goes with its task.
-- depends: 0036_moods_partition_attach_locks

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE task_pending_dependencies (
    task_id         uuid        NOT NULL,
    project_id      uuid        NOT NULL,
    depends_on_key  text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_pending_dependencies_pkey PRIMARY KEY (task_id, depends_on_key),
    CONSTRAINT task_pending_dependencies_key_format
        CHECK (depends_on_key ~ '^[^[:space:]]{1,100}$'),
    CONSTRAINT task_pending_dependencies_task_fkey
        FOREIGN KEY (task_id, project_id) REFERENCES tasks (id, project_id) ON DELETE CASCADE
);

COMMENT ON TABLE task_pending_dependencies IS
    'Dependencies named by an import on task keys the project does not have yet.';

-- The lookup an import makes when tasks arrive: pending rows of the project by key.
CREATE INDEX task_pending_dependencies_project_id_depends_on_key_idx
    ON task_pending_dependencies (project_id, depends_on_key);
