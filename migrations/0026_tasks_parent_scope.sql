-- A subtask lives where its parent lives: in the same project, or, outside
-- projects, among the same user's own tasks.
--
-- Why: tasks_parent_same_project_fkey (parent_id, project_id) is MATCH SIMPLE,
-- so it is skipped whenever the subtask has no project: a project-less subtask
-- could hang under another project's task, or under another user's private
-- task, and would then never appear in either tree. A foreign key cannot say
-- "same project, or same owner when there is none" without a new stored column,
-- and adding one would rewrite this large, live table under an exclusive lock.
-- Two small triggers say it instead and name the rule tasks_parent_same_scope
-- (SQLSTATE check_violation), which the DAL maps to InvalidData:
-- * on the subtask: its parent must be in the same project (NULL included),
--   and with no project, have the same owner; the parent row is read FOR SHARE,
--   so a concurrent move of the parent waits for this insert, or the other way;
-- * on the parent: moving it to another project or owner must not strand its
--   subtasks.
-- Both are AFTER triggers: a statement that moves a parent and its subtasks
-- together is judged once all its rows are written. The parent-side check reads
-- the subtasks in the statement's snapshot: writers that move tasks between
-- projects or owners run at READ COMMITTED (as the DAL does) or SERIALIZABLE,
-- not REPEATABLE READ, where a subtask added meanwhile would go unseen.
-- Existing rows are checked after the triggers are created, under their lock,
-- so the rule holds for every row once applied.
-- depends: 0025_server_members_join_order

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION tasks_check_parent_scope() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    parent_project uuid;
    parent_owner uuid;
BEGIN
    SELECT project_id, owner_id INTO parent_project, parent_owner
      FROM tasks WHERE id = NEW.parent_id
       FOR SHARE;
    -- A missing parent is tasks_parent_id_fkey's to report.
    IF FOUND AND (parent_project IS DISTINCT FROM NEW.project_id
                  OR (NEW.project_id IS NULL AND parent_owner <> NEW.owner_id)) THEN
        RAISE EXCEPTION 'task % cannot be a subtask of task %: a subtask stays in its parent''s '
                        'project, or among its owner''s own tasks', NEW.id, NEW.parent_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_parent_same_scope',
                  TABLE = 'tasks', COLUMN = 'parent_id';
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION tasks_check_parent_scope() IS
    'AFTER trigger on tasks: a subtask is in its parent''s project, or has its owner (tasks_parent_same_scope).';

CREATE FUNCTION tasks_check_children_scope() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF EXISTS (
        SELECT 1 FROM tasks AS child
         WHERE child.parent_id = NEW.id
           AND (child.project_id IS DISTINCT FROM NEW.project_id
                OR (NEW.project_id IS NULL AND child.owner_id <> NEW.owner_id))
    ) THEN
        RAISE EXCEPTION 'task % cannot move: its subtasks would leave its project or owner', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_parent_same_scope',
                  TABLE = 'tasks';
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION tasks_check_children_scope() IS
    'AFTER trigger on tasks: moving a parent must not strand its subtasks (tasks_parent_same_scope).';

CREATE TRIGGER tasks_parent_same_scope
    AFTER INSERT OR UPDATE OF parent_id, project_id, owner_id ON tasks
    FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL)
    EXECUTE FUNCTION tasks_check_parent_scope();

-- Uses tasks_parent_id_idx to find the subtasks.
CREATE TRIGGER tasks_children_same_scope
    AFTER UPDATE OF project_id, owner_id ON tasks
    FOR EACH ROW WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id
                       OR OLD.owner_id <> NEW.owner_id)
    EXECUTE FUNCTION tasks_check_children_scope();

-- Existing rows, checked once the triggers stand: CREATE TRIGGER holds SHARE ROW
-- EXCLUSIVE on tasks until commit, so no write can slip between this check and them.
DO $$
DECLARE
    stranded bigint;
BEGIN
    SELECT count(*) INTO stranded
      FROM tasks AS child
      JOIN tasks AS parent ON parent.id = child.parent_id
     WHERE parent.project_id IS DISTINCT FROM child.project_id
        OR (child.project_id IS NULL AND parent.owner_id <> child.owner_id);
    IF stranded > 0 THEN
        RAISE EXCEPTION '% subtask(s) sit outside their parent''s project or owner', stranded
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_parent_same_scope',
                  HINT = 'move them (UPDATE tasks SET parent_id = NULL ...) before migrating';
    END IF;
END;
$$;
