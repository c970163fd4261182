-- The transaction machinery of dal.db: no table, only the server's transaction ids.

-- name: current_id
-- The id of the open transaction, taken just before its COMMIT; NULL when it wrote nothing.
SELECT pg_current_xact_id_if_assigned()::text

-- name: status
-- What became of a transaction whose COMMIT went unanswered: committed, aborted or in progress.
SELECT pg_xact_status(%(xid)s::xid8)

-- name: set_acting_user
-- The acting user for row-level security, for the rest of this transaction only (is_local).
SELECT set_config('dal.user_id', %(user_id)s, true)

-- name: wal_position
-- Where the primary's WAL ends, taken after a commit: a replica that replayed this far holds it.
-- The insert position, not the write position: with synchronous_commit off, the commit
-- record may not be written out yet.
SELECT pg_current_wal_insert_lsn()::text

-- name: replay_position
-- How far a replica has replayed, and its lag in seconds (0 when it has replayed all it received).
SELECT pg_last_wal_replay_lsn()::text,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
       END::float8
