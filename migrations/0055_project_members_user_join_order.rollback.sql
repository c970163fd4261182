-- Rollback of 0055_project_members_user_join_order: drop the index without blocking writes.

SET lock_timeout = '1min';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS project_members_user_id_created_at_idx;
