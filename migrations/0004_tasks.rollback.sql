-- Rollback of 0004_tasks: drops the table (indexes, triggers) and the version trigger function.

DROP TABLE tasks;

DROP FUNCTION bump_version();
