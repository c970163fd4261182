-- Rollback of 0006_sync_history: drops the table with its indexes.

DROP TABLE sync_history;
