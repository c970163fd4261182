-- Rollback of 0051_event_rsvps_event_id_response_server_id: the index as 0020
-- made it, rebuilt CONCURRENTLY beside the current one, which then goes.

SET lock_timeout = '5s';

SET statement_timeout = '30min';

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS event_rsvps_event_id_response_old_idx
    ON event_rsvps (event_id, response, responded_at, user_id);

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_idx;

-- squawk-ignore renaming-object
ALTER INDEX event_rsvps_event_id_response_old_idx RENAME TO event_rsvps_event_id_response_idx;

RESET statement_timeout;

RESET lock_timeout;
