-- Indexes that hold the columns row-level security reads, so the policies cost
-- the plans nothing at production size.
--
-- Why: a policy's columns are read for every row a query touches. Where an index
-- lacks them, an index-only scan becomes an index scan with a heap fetch per row.
-- Measured at the `large` profile (dal bench), for an acting user who owns 85
-- servers and for a heavy task owner:
--   * dal_servers (0046) reads the acting user's owned servers by
--     servers_owner_id_idx and their memberships' roles by
--     server_members_user_id_idx: one heap fetch per server, about 85 buffers
--     for every statement on a community table;
--   * tasks' policy reads project_id (and owner_id): tasks.counts_by_status and
--     the task counts of categories.list_for_user_with_counts fetched every task
--     of the owner from the heap (650 and 1,680 buffers, where the index alone
--     reads a third of that).
-- Each index is rebuilt with those columns after its own (its order for its
-- queries unchanged) and keeps its name, so the queries and plan checks that
-- cite it stay true. In tasks' indexes they are key columns, not INCLUDE ones:
-- INCLUDE turns off B-tree deduplication, and an owner's tasks of one status and
-- project then take an entry each (the owner and status index grew from 1,500 to
-- 7,100 pages at `large`, as keys it takes 1,850). In the others the key is
-- unique already, so INCLUDE costs nothing and says what the column is for.
--
-- The tables are live and tasks is large, so every index is built CONCURRENTLY
-- (writes go on while it builds), outside a transaction, hence a migration of
-- its own. For each: drop a leftover INVALID build of a failed run, build the
-- new index beside the old one, drop the old one, then give the new one the old
-- name (a catalog change under SHARE UPDATE EXCLUSIVE, which blocks no reads or
-- writes). A rerun after a stop at any step ends in the same state. No client
-- names these indexes (squawk's renaming-object is ignored for that reason).
-- depends: 0046_row_level_security_community
-- transactional: false

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

-- server_members: a user's memberships with their role (dal_servers).
DO $$ BEGIN PERFORM pg_temp.resume_swap('server_members_user_id_role_idx', 'server_members_user_id_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_role_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS server_members_user_id_role_idx
    ON server_members (user_id, server_id) INCLUDE (role);

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX server_members_user_id_role_idx RENAME TO server_members_user_id_idx;

-- servers: the servers a user owns (dal_servers).
DO $$ BEGIN PERFORM pg_temp.resume_swap('servers_owner_id_id_idx', 'servers_owner_id_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS servers_owner_id_id_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS servers_owner_id_id_idx ON servers (owner_id) INCLUDE (id);

DROP INDEX CONCURRENTLY IF EXISTS servers_owner_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX servers_owner_id_id_idx RENAME TO servers_owner_id_idx;

-- tasks: an owner's tasks by status, with the project the policy judges them by.
DO $$ BEGIN PERFORM pg_temp.resume_swap('tasks_owner_id_status_project_id_idx', 'tasks_owner_id_status_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_status_project_id_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_owner_id_status_project_id_idx
    ON tasks (owner_id, status, project_id);

DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_status_idx;

-- squawk-ignore renaming-object
ALTER INDEX tasks_owner_id_status_project_id_idx RENAME TO tasks_owner_id_status_idx;

-- tasks: a category's tasks, with the owner and project the policy judges them by.
DO $$ BEGIN PERFORM pg_temp.resume_swap('tasks_category_id_owner_id_idx', 'tasks_category_id_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS tasks_category_id_owner_id_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_category_id_owner_id_idx
    ON tasks (category_id, owner_id, project_id) WHERE category_id IS NOT NULL;

DROP INDEX CONCURRENTLY IF EXISTS tasks_category_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX tasks_category_id_owner_id_idx RENAME TO tasks_category_id_idx;

RESET statement_timeout;

RESET lock_timeout;
