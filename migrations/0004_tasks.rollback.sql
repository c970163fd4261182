-- Rollback of 0004_tasks: drops the table (indexes, triggers) and the version trigger function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE tasks;

DROP FUNCTION bump_version();
