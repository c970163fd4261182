-- Rollback of 0057_server_members_user_join_order: drop the index without blocking writes.

SET lock_timeout = '1min';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_joined_at_idx;
