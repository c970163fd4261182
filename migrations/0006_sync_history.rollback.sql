-- Rollback of 0006_sync_history: drops the table with its indexes.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE sync_history;
