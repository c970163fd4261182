-- A user's servers in the order they joined, a page at a time.
--
-- Why: dal.servers.for_user returned every server of a user, sorted by the
-- server's name across the join with servers, which no index can serve. It now
-- pages by the membership's (joined_at, server_id), which this index holds in
-- order. role is carried (INCLUDE), so the page and the acting user's
-- memberships that row-level security reads (dal_servers) stay index-only, as
-- 0047 made them on server_members_user_id_idx; that index is then redundant and
-- goes in 0058, once this one is valid.
--
-- server_members is live and large, so the index is built CONCURRENTLY (writes
-- go on), outside a transaction, hence a migration of its own; the DROP first
-- clears an INVALID leftover of a failed build.
-- depends: 0056_project_members_project_join_order
-- transactional: false

SET lock_timeout = '1min';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS server_members_user_id_joined_at_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS server_members_user_id_joined_at_idx
    ON server_members (user_id, joined_at, server_id) INCLUDE (role);
