-- Rollback of 0037_task_pending_dependencies: drops the table (its index goes with it).
-- Dependencies still pending are lost; resolved ones are already real edges.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE task_pending_dependencies;
