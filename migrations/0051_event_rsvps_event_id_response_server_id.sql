-- An event's RSVPs by response, with the server row-level security judges them by.
--
-- Why: listing and counting an event's answers are index-only scans of
-- event_rsvps_event_id_response_idx. The RSVP policy (0052) reads server_id,
-- which that index lacks, so each answer would cost a heap fetch. The index is
-- rebuilt with server_id under INCLUDE (its key and order unchanged) and keeps
-- its name, as 0047 did for others.
--
-- Built CONCURRENTLY beside the old one (writes go on), outside a transaction,
-- hence a migration of its own: drop a leftover INVALID build of a failed run,
-- build, drop the old index, give the new one its name (SHARE UPDATE EXCLUSIVE:
-- no reads or writes wait). No client names the index (squawk's renaming-object
-- is ignored for that reason).
-- depends: 0050_event_rsvps_server_id_not_null
-- transactional: false

SET lock_timeout = '5s';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_server_id_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS event_rsvps_event_id_response_server_id_idx
    ON event_rsvps (event_id, response, responded_at, user_id) INCLUDE (server_id);

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_idx;

-- squawk-ignore renaming-object
ALTER INDEX event_rsvps_event_id_response_server_id_idx RENAME TO event_rsvps_event_id_response_idx;

RESET statement_timeout;

RESET lock_timeout;
