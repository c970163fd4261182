-- Rollback of 0047_row_level_security_covering_indexes: the four indexes as they
-- were before it, rebuilt the same way (CONCURRENTLY beside the current one, which
-- is then dropped and its name given back), so writes go on throughout.

SET lock_timeout = '5s';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS server_members_user_id_old_idx ON server_members (user_id, server_id);

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX server_members_user_id_old_idx RENAME TO server_members_user_id_idx;

DROP INDEX CONCURRENTLY IF EXISTS servers_owner_id_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS servers_owner_id_old_idx ON servers (owner_id);

DROP INDEX CONCURRENTLY IF EXISTS servers_owner_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX servers_owner_id_old_idx RENAME TO servers_owner_id_idx;

DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_status_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_owner_id_status_old_idx ON tasks (owner_id, status);

DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_status_idx;

-- squawk-ignore renaming-object
ALTER INDEX tasks_owner_id_status_old_idx RENAME TO tasks_owner_id_status_idx;

DROP INDEX CONCURRENTLY IF EXISTS tasks_category_id_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_category_id_old_idx
    ON tasks (category_id) WHERE category_id IS NOT NULL;

DROP INDEX CONCURRENTLY IF EXISTS tasks_category_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX tasks_category_id_old_idx RENAME TO tasks_category_id_idx;

RESET statement_timeout;

RESET lock_timeout;
