-- Rollback of 0005_task_dependencies: drops the table and its trigger function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE task_dependencies;

DROP FUNCTION task_dependencies_set_project_id();
