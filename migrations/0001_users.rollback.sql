-- Rollback of 0001_users: drops the table (with its indexes and trigger) and the trigger function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE users;

DROP FUNCTION set_updated_at();
