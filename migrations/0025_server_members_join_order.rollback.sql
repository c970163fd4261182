-- Rollback of 0025_server_members_join_order: drop the index without blocking writes.

SET lock_timeout = '5s';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS server_members_server_id_joined_at_idx;
