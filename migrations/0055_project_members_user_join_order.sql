-- A user's projects in the order they joined, a page at a time.
--
-- Why: dal.projects.list_for_user returned every project of a member, sorted
-- by the project's created_at across the join with projects, which no index can
-- serve. It now pages by the membership's (created_at, project_id), which this
-- index holds in order, so a page costs the same at any depth. role and
-- access_level are carried (INCLUDE) so that the page, and the acting user's
-- memberships that row-level security reads (dal_projects), stay index-only as
-- they were on project_members_user_id_idx; that index is then redundant and
-- goes in 0058, once this one is valid.
--
-- project_members is live, so the index is built CONCURRENTLY (writes go on),
-- which cannot run in a transaction, hence a migration of its own. A failed
-- build leaves an INVALID index behind; the DROP first makes a rerun start clean
-- (the migration is recorded only once the index is built).
-- depends: 0054_row_level_security_no_acting_user
-- transactional: false

-- CONCURRENTLY's waits for older transactions count against lock_timeout: a
-- minute, not the seconds that DDL blocking writes gets.
SET lock_timeout = '1min';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS project_members_user_id_created_at_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS project_members_user_id_created_at_idx
    ON project_members (user_id, created_at, project_id) INCLUDE (role, access_level);
