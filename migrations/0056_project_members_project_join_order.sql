-- A project's members in the order they joined, a page at a time.
--
-- Why: dal.projects.list_members returned a project's whole member list and
-- sorted it by created_at on every call; the primary key (project_id, user_id)
-- finds the rows but not in that order. It now pages by (created_at, user_id),
-- which this index holds in order; role and access_level are carried (INCLUDE)
-- so a page is an index-only scan.
--
-- Built CONCURRENTLY (writes go on), outside a transaction, hence a migration of
-- its own; the DROP first clears an INVALID leftover of a failed build.
-- depends: 0055_project_members_user_join_order
-- transactional: false

SET lock_timeout = '1min';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS project_members_project_id_created_at_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS project_members_project_id_created_at_idx
    ON project_members (project_id, created_at, user_id) INCLUDE (role, access_level);
