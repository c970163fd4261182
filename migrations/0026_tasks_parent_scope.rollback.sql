-- Rollback of 0026_tasks_parent_scope: drops the two scope triggers and their functions.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TRIGGER tasks_children_same_scope ON tasks;
DROP TRIGGER tasks_parent_same_scope ON tasks;

DROP FUNCTION tasks_check_children_scope();
DROP FUNCTION tasks_check_parent_scope();
