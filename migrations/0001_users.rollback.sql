-- Rollback of 0001_users: drops the table (with its indexes and trigger) and the trigger function.

DROP TABLE users;

DROP FUNCTION set_updated_at();
