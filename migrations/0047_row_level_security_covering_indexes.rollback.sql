-- Rollback of 0047_row_level_security_covering_indexes: the four indexes as they
-- were before it, rebuilt the same way (CONCURRENTLY beside the current one, which
-- is then dropped and its name given back), so writes go on throughout.

-- CONCURRENTLY takes only locks that let reads and writes go on, but its waits for
-- older transactions count against lock_timeout: a minute, not the seconds that
-- DDL blocking writes gets.
SET lock_timeout = '1min';

SET statement_timeout = '30min';

-- A run stopped between dropping an old index (or leaving it INVALID) and renaming
-- its replacement resumes here: the valid replacement takes the name first, so no
-- step below drops the only valid index. (A function of this session only.)
CREATE FUNCTION pg_temp.resume_swap(replacement text, name text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass(replacement) AND indisvalid)
       AND NOT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass(name) AND indisvalid)
    THEN
        -- Dropping an invalid index locks its table: briefly, or not at all.
        PERFORM set_config('lock_timeout', '5s', true);
        EXECUTE format('DROP INDEX IF EXISTS %I', name);
        EXECUTE format('ALTER INDEX %I RENAME TO %I', replacement, name);
    END IF;
END
$$;

DO $$ BEGIN PERFORM pg_temp.resume_swap('server_members_user_id_old_idx', 'server_members_user_id_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS server_members_user_id_old_idx ON server_members (user_id, server_id);

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX server_members_user_id_old_idx RENAME TO server_members_user_id_idx;

DO $$ BEGIN PERFORM pg_temp.resume_swap('servers_owner_id_old_idx', 'servers_owner_id_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS servers_owner_id_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS servers_owner_id_old_idx ON servers (owner_id);

DROP INDEX CONCURRENTLY IF EXISTS servers_owner_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX servers_owner_id_old_idx RENAME TO servers_owner_id_idx;

DO $$ BEGIN PERFORM pg_temp.resume_swap('tasks_owner_id_status_old_idx', 'tasks_owner_id_status_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_status_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_owner_id_status_old_idx ON tasks (owner_id, status);

DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_status_idx;

-- squawk-ignore renaming-object
ALTER INDEX tasks_owner_id_status_old_idx RENAME TO tasks_owner_id_status_idx;

DO $$ BEGIN PERFORM pg_temp.resume_swap('tasks_category_id_old_idx', 'tasks_category_id_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS tasks_category_id_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_category_id_old_idx
    ON tasks (category_id) WHERE category_id IS NOT NULL;

DROP INDEX CONCURRENTLY IF EXISTS tasks_category_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX tasks_category_id_old_idx RENAME TO tasks_category_id_idx;

RESET statement_timeout;

RESET lock_timeout;
