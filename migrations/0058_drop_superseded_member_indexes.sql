-- Drop the two membership indexes that the join-order indexes superseded.
--
-- Why: project_members_user_id_idx (user_id) INCLUDE (project_id, role,
-- access_level) and server_members_user_id_idx (user_id, server_id) INCLUDE
-- (role) lead with the user, as 0055 and 0057's indexes do, and hold no column
-- those lack: every lookup they served (a user's memberships, the foreign keys'
-- checks on user delete, row-level security's dal_projects and dal_servers) is
-- served as well by the new ones. Kept, they would only cost every membership
-- write an index entry and the buffer cache their pages.
--
-- DROP INDEX CONCURRENTLY waits for queries using the index and blocks neither
-- reads nor writes; it cannot run in a transaction, hence a migration of its own.
-- The rollback builds both again, CONCURRENTLY.
-- depends: 0057_server_members_user_join_order
-- transactional: false

SET lock_timeout = '1min';

SET statement_timeout = '30min';

-- Nothing is dropped unless both replacements are there and valid: a failed build of
-- 0055 or 0057 (an INVALID index) would otherwise leave a membership table with no
-- index leading with user_id, and every user delete scanning it.
DO $$
BEGIN
    IF (SELECT count(*) FROM pg_index
         WHERE indisvalid
           AND indexrelid IN (to_regclass('project_members_user_id_created_at_idx'),
                              to_regclass('server_members_user_id_joined_at_idx'))) <> 2
    THEN
        RAISE EXCEPTION 'project_members_user_id_created_at_idx and '
                        'server_members_user_id_joined_at_idx must both be valid first'
            USING HINT = 'roll back to 0054 and migrate again: 0055 and 0057 rebuild them';
    END IF;
END
$$;

DROP INDEX CONCURRENTLY IF EXISTS project_members_user_id_idx;

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_idx;
