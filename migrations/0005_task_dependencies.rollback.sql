-- Rollback of 0005_task_dependencies: drops the table and its trigger function.

DROP TABLE task_dependencies;

DROP FUNCTION task_dependencies_set_project_id();
