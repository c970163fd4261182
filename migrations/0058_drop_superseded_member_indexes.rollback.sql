-- Rollback of 0058_drop_superseded_member_indexes: build both indexes again
-- without blocking writes (the DROP first clears an INVALID leftover of a failed build).

SET lock_timeout = '1min';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS project_members_user_id_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS project_members_user_id_idx
    ON project_members (user_id) INCLUDE (project_id, role, access_level);

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS server_members_user_id_idx
    ON server_members (user_id, server_id) INCLUDE (role);
