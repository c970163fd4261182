-- Server members in join order, a page at a time.
--
-- Why: dal.servers.members returned a server's whole member list in one call
-- (about 27,000 rows for the busiest server of the `large` data set) and sorted
-- it every time. It now pages by (joined_at, user_id), which this index serves
-- in order, so a page costs the same at any depth.
--
-- server_members is live and large, so the index is built CONCURRENTLY: writes
-- go on while it builds. That cannot run in a transaction, hence its own
-- non-transactional migration. If a build fails it leaves an INVALID index
-- behind; the DROP first makes a rerun start clean (the migration is only
-- recorded once the index is built, so a valid index is never dropped here).
-- depends: 0024_configuration
-- transactional: false

SET lock_timeout = '5s';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS server_members_server_id_joined_at_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS server_members_server_id_joined_at_idx
    ON server_members (server_id, joined_at, user_id);
